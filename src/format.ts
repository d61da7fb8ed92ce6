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

/**
 * The unit `formatBytes` gives the largest of `values` ("MB" for 34,000,000), and its size in bytes: chart axes
 * count in it, so an axis says "30 MB" where the text beside it says "34.2 MB".
 */
export function byteUnit(values: Iterable<number>): {
  unit: string;
  bytes: number;
} {
  let max = 0;
  for (const value of values) {
    if (Number.isFinite(value)) {
      max = Math.max(max, Math.abs(value));
    }
  }
  let unit = 0;
  while (max >= 1000 && unit < UNITS.length - 1) {
    max /= 1000;
    unit++;
  }
  return { unit: UNITS[unit], bytes: 1000 ** unit };
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
