import { cellPositions, executionLabel, progressLine } from '../labels';
import { makeReport } from './fixtures';

describe('executionLabel', () => {
  it("names an execution by its cell's place and its run", () => {
    const positions = cellPositions(['x', 'cell-a', 'y']);
    expect(executionLabel(makeReport({ run: 3 }), positions)).toBe(
      'cell 2 · run 3'
    );
    expect(
      executionLabel(
        makeReport({ cell_id: 'gone', execution_count: 7 }),
        positions
      )
    ).toBe('[7] · run 1');
    expect(
      executionLabel(
        makeReport({ cell_id: null, execution_count: null }),
        positions
      )
    ).toBe('a deleted cell · run 1');
  });
});

describe('progressLine', () => {
  it('says how long memdiag has worked once it is long enough to matter', () => {
    const text = 'memdiag: tracing this run…';
    expect(progressLine({ text, elapsed_s: 0 })).toBe(text);
    expect(progressLine({ text, elapsed_s: 1.42 })).toBe(`${text} (1.4 s)`);
  });
});
