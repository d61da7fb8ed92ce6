/**
 * Number formatting for memory figures. Pure module.
 */

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** A byte count in decimal units with two or three significant digits: "512 B", "1.5 MB", "120 MB". */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  let text = value.toFixed(digits);
  if (digits > 0) {
    text = text.replace(/\.?0+$/, '');
  }
  return `${sign}${text} ${UNITS[unit]}`;
}

/** A change in bytes with an explicit sign: "+8 MB", "-1.2 MB", "±0 B". */
export function formatDelta(bytes: number): string {
  if (bytes === 0) {
    return '±0 B';
  }
  return bytes > 0 ? `+${formatBytes(bytes)}` : formatBytes(bytes);
}

/** A count with a k/M suffix: "950", "2k", "1.3M". */
export function formatCount(count: number): string {
  const abs = Math.abs(count);
  if (abs < 1000) {
    return String(count);
  }
  if (abs < 1e6) {
    return `${+(count / 1000).toFixed(abs < 10000 ? 1 : 0)}k`;
  }
  return `${+(count / 1e6).toFixed(1)}M`;
}

/** Seconds as "12 ms" or "1.4 s". */
export function formatSeconds(seconds: number): string {
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  return `${+seconds.toFixed(1)} s`;
}
