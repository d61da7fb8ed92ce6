import { FALLBACK_PALETTE, growthSpec } from '../charts';
import { isReport } from '../protocol';
import { makeReport } from './fixtures';

// The census counts untracked payload under its own type ("payload": how many of count; "holds": bytes a container's
// objects hold, counted in other rows) and sums what is left after 8 rows into one row of type "other" ("types").
const GROWTH = [
  { type: 'bytes', count: 3, size: 15_000_099, payload: 3, holds: 0 },
  { type: 'list', count: 5, size: 384, payload: 0, holds: 15_000_192 },
  { type: 'other', count: 44, size: 5604, payload: 32, types: 10 }
];

describe('growth rows with payload and an "other" row', () => {
  it('are a valid report', () => {
    const report = makeReport({ objects: { new: 17, growth: GROWTH } } as any);
    expect(isReport(report)).toBe(true);
  });

  it('chart as bars like any type, biggest first', () => {
    const spec = growthSpec(GROWTH, FALLBACK_PALETTE) as any;
    expect(spec.data.values.map((r: any) => r.key)).toEqual([
      'bytes',
      'other',
      'list'
    ]);
    expect(spec.data.values[1]).toMatchObject({
      type: 'other',
      count: 44,
      sizeText: '5.6 kB'
    });
  });

  it('keep a user type named "other" apart from the summed row', () => {
    const spec = growthSpec(
      [...GROWTH, { type: 'other', count: 1, size: 10 }],
      FALLBACK_PALETTE
    ) as any;
    expect(spec.data.values.map((r: any) => r.key)).toEqual([
      'bytes',
      'other',
      'list',
      'other (2)'
    ]);
  });
});
