import { NotebookMemoryModel } from '../model';
import { makeReport } from './fixtures';

describe('NotebookMemoryModel', () => {
  it('keeps executions in order and by cell', () => {
    const model = new NotebookMemoryModel();
    let changes = 0;
    model.changed.connect(() => changes++);
    model.add(makeReport({ cell_id: 'a', execution_count: 1 }));
    model.add(makeReport({ cell_id: 'b', execution_count: 2 }));
    model.add(makeReport({ cell_id: 'a', execution_count: 3, run: 2 }));
    expect(model.executions.map(r => r.execution_count)).toEqual([1, 2, 3]);
    expect(model.forCell('a').map(r => r.run)).toEqual([1, 2]);
    expect(model.latest('a')?.execution_count).toBe(3);
    expect(model.latest('zzz')).toBeUndefined();
    expect(changes).toBe(3);
  });

  it('ignores a report it already holds, as a re-sent history', () => {
    const model = new NotebookMemoryModel();
    const history = [
      makeReport({ execution_count: 1 }),
      makeReport({ execution_count: 2 })
    ];
    expect(model.merge(history)).toBe(2);
    let changes = 0;
    model.changed.connect(() => changes++);
    expect(model.merge(history)).toBe(0);
    expect(model.add(makeReport({ execution_count: 2 }))).toBe(false);
    expect(changes).toBe(0);
    expect(model.executions).toHaveLength(2);
  });

  it('is bounded, dropping the oldest', () => {
    const model = new NotebookMemoryModel({ maxExecutions: 3 });
    for (let i = 1; i <= 5; i++) {
      model.add(makeReport({ execution_count: i }));
    }
    expect(model.executions.map(r => r.execution_count)).toEqual([3, 4, 5]);
    model.maxExecutions = 2;
    expect(model.executions.map(r => r.execution_count)).toEqual([4, 5]);
    // A dropped report can come back (its key was forgotten with it).
    expect(model.add(makeReport({ execution_count: 1 }))).toBe(true);
  });

  it('clears', () => {
    const model = new NotebookMemoryModel();
    model.add(makeReport());
    model.clear();
    expect(model.executions).toHaveLength(0);
    expect(model.add(makeReport())).toBe(true);
  });
});

describe('NotebookMemoryModel.latest', () => {
  it('follows additions, merges, trimming and clearing', () => {
    const model = new NotebookMemoryModel({ maxExecutions: 3 });
    model.add(makeReport({ cell_id: 'a', execution_count: 1 }));
    model.merge([
      makeReport({ cell_id: 'b', execution_count: 2 }),
      makeReport({ cell_id: 'a', execution_count: 3 })
    ]);
    expect(model.latest('a')?.execution_count).toBe(3);
    expect(model.latest('b')?.execution_count).toBe(2);
    model.add(makeReport({ cell_id: 'c', execution_count: 4 }));
    model.add(makeReport({ cell_id: 'c', execution_count: 5 }));
    // b's only report was trimmed away; a keeps its newest.
    expect(model.latest('b')).toBeUndefined();
    expect(model.latest('c')?.execution_count).toBe(5);
    model.clear();
    expect(model.latest('c')).toBeUndefined();
  });
});
