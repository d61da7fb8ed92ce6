import {
  formatBytes,
  formatCount,
  formatDelta,
  formatSeconds
} from '../format';

describe('format', () => {
  it('formats bytes in decimal units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1500)).toBe('1.5 kB');
    expect(formatBytes(8_000_000)).toBe('8 MB');
    expect(formatBytes(12_345_678)).toBe('12.3 MB');
    expect(formatBytes(123_456_789)).toBe('123 MB');
    expect(formatBytes(2_500_000_000)).toBe('2.5 GB');
    expect(formatBytes(-3_000_000)).toBe('-3 MB');
  });

  it('signs deltas', () => {
    expect(formatDelta(8_000_000)).toBe('+8 MB');
    expect(formatDelta(-1_200_000)).toBe('-1.2 MB');
    expect(formatDelta(0)).toBe('±0 B');
  });

  it('abbreviates counts', () => {
    expect(formatCount(950)).toBe('950');
    expect(formatCount(2000)).toBe('2k');
    expect(formatCount(2500)).toBe('2.5k');
    expect(formatCount(45_000)).toBe('45k');
    expect(formatCount(1_300_000)).toBe('1.3M');
  });

  it('formats durations', () => {
    expect(formatSeconds(0.0123)).toBe('12 ms');
    expect(formatSeconds(1.44)).toBe('1.4 s');
  });
});
