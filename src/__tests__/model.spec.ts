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

describe('NotebookMemoryModel: one history in time order', () => {
  it('places saved reports by their saved time, before the live ones', () => {
    const model = new NotebookMemoryModel();
    const leak = makeReport({
      cell_id: 'a',
      execution_count: 3,
      run: 3,
      verdict: {
        kind: 'leak',
        flags: ['leak'],
        bytes_per_run: 7_000_000,
        reason: 'leaks'
      }
    });
    // Cells are read top to bottom: the newest report of cell a comes before cell b's older one.
    model.restore([
      { report: leak, at: 3000 },
      {
        report: makeReport({ cell_id: 'b', execution_count: 2 }),
        at: 2000
      },
      {
        report: makeReport({ cell_id: 'a', execution_count: 1 }),
        at: 1000
      }
    ]);
    expect(model.executions.map(r => r.execution_count)).toEqual([1, 2, 3]);
    expect(model.latest('a')).toBe(leak);
    // The kernel that made them is still running: its history claims them, nothing moves.
    model.merge([
      makeReport({ cell_id: 'a', execution_count: 1 }),
      makeReport({ cell_id: 'b', execution_count: 2 }),
      { ...leak },
      makeReport({ cell_id: 'c', execution_count: 4 })
    ]);
    expect(model.executions.map(r => r.execution_count)).toEqual([1, 2, 3, 4]);
    expect(model.latest('a')).toBe(leak);
    expect(model.isStale(leak)).toBe(false);
    model.add(makeReport({ cell_id: 'b', execution_count: 5 }));
    expect(model.executions.map(r => r.execution_count)).toEqual([
      1, 2, 3, 4, 5
    ]);
    expect(model.latestLive()?.execution_count).toBe(5);
  });

  it('orders saved reports without a time by execution count, oldest of all', () => {
    const model = new NotebookMemoryModel();
    model.restore([
      { report: makeReport({ cell_id: 'x', execution_count: 9 }), at: 5000 },
      { report: makeReport({ cell_id: 'y', execution_count: 2 }), at: null },
      { report: makeReport({ cell_id: 'z', execution_count: 1 }), at: null }
    ]);
    expect(model.executions.map(r => r.execution_count)).toEqual([1, 2, 9]);
  });

  it('starts a segment at a restart: earlier reports are stale until their cell runs again', () => {
    const model = new NotebookMemoryModel();
    const before = makeReport({ cell_id: 'a', execution_count: 1 });
    model.add(before);
    expect(model.isStale(before)).toBe(false);
    expect(model.restartedSinceLast).toBe(false);
    model.startSegment();
    expect(model.isStale(before)).toBe(true);
    expect(model.restartedSinceLast).toBe(true);
    expect(model.latestLive()).toBeNull();
    // The new kernel counts from 1 again: a different execution, after the old one.
    const after = makeReport({
      cell_id: 'a',
      execution_count: 1,
      rss: { before: 50_000_000, after: 51_000_000, peak: null, limit: null }
    });
    model.add(after);
    expect(model.executions).toEqual([before, after]);
    expect(model.segmentOf(after)).toBe(model.segmentOf(before) + 1);
    expect(model.latest('a')).toBe(after);
    expect(model.isStale(after)).toBe(false);
  });

  it('saved reports no live kernel claims stay in the past', () => {
    const model = new NotebookMemoryModel();
    const saved = makeReport({ cell_id: 'a', execution_count: 4 });
    model.restore([{ report: saved, at: 1000 }]);
    model.merge([]);
    expect(model.isStale(saved)).toBe(true);
  });

  it('keeps progress until the report of its cell, or a new segment', () => {
    const model = new NotebookMemoryModel();
    const seen: Array<string | null> = [];
    model.progressChanged.connect((_, p) => seen.push(p?.text ?? null));
    const progress = {
      cell_id: 'a',
      execution_count: 2,
      stage: 'backrefs' as const,
      text: 'memdiag: finding what keeps 20 MB alive…',
      elapsed_s: 0.4
    };
    model.setProgress(progress);
    model.add(makeReport({ cell_id: 'b', execution_count: 1 }));
    expect(model.progress).toEqual(progress);
    model.add(makeReport({ cell_id: 'a', execution_count: 2 }));
    expect(model.progress).toBeNull();
    model.setProgress(progress);
    model.startSegment();
    expect(model.progress).toBeNull();
    expect(seen).toEqual([progress.text, null, progress.text, null]);
  });
});

describe('NotebookMemoryModel: started_at and kernel_session (issue 15, item 10)', () => {
  it('orders saved reports by when their cells started, whatever their saved arrival time says', () => {
    const model = new NotebookMemoryModel();
    const first = makeReport({
      cell_id: 'a',
      execution_count: 9,
      started_at: 1000
    });
    const second = makeReport({
      cell_id: 'b',
      execution_count: 2,
      started_at: 2000
    });
    // Arrival times that disagree (a clock that jumped, a notebook saved from two browsers).
    model.restore([
      { report: second, at: 5 },
      { report: first, at: 9_000_000 }
    ]);
    expect(model.executions).toEqual([first, second]);
  });

  it('marks a restart between saved reports of two kernel processes', () => {
    const model = new NotebookMemoryModel();
    const reports = [
      makeReport({ execution_count: 1, started_at: 1, kernel_session: 'k1' }),
      makeReport({ execution_count: 2, started_at: 2, kernel_session: 'k1' }),
      makeReport({ execution_count: 1, started_at: 3, kernel_session: 'k2' })
    ];
    model.restore(reports.map(report => ({ report, at: null })));
    const segments = model.executions.map(report => model.segmentOf(report));
    expect(segments[0]).toBe(segments[1]);
    expect(segments[2]).not.toBe(segments[1]);
    expect(model.executions.every(report => model.isStale(report))).toBe(true);
  });

  it('starts a new segment when a live report comes from another kernel process', () => {
    const model = new NotebookMemoryModel();
    const old = makeReport({ execution_count: 1, kernel_session: 'k1' });
    model.add(old);
    expect(model.isStale(old)).toBe(false);
    // Nobody said the kernel restarted: its session did.
    const next = makeReport({
      execution_count: 1,
      rss: { before: 2, after: 3, peak: 3, limit: null },
      kernel_session: 'k2'
    });
    model.add(next);
    expect(model.isStale(old)).toBe(true);
    expect(model.isStale(next)).toBe(false);
    expect(model.segmentOf(next)).toBe(model.segmentOf(old) + 1);
  });

  it('takes the first run of a cell after a restart as new, even when it starts at the same RSS', () => {
    const model = new NotebookMemoryModel();
    // Execution 1, run 1 of the same cell in two kernel processes; a fresh kernel's RSS repeats to the page.
    const before = makeReport({ cell_id: 'v', kernel_session: 'k1' });
    const after = makeReport({ cell_id: 'v', kernel_session: 'k2' });
    expect(model.add(before)).toBe(true);
    expect(model.add(after)).toBe(true);
    expect(model.forCell('v')).toEqual([before, after]);
    expect(model.isStale(before)).toBe(true);
    // The second process's history re-sent on a reconnection adds nothing.
    expect(model.merge([{ ...after }])).toBe(0);
    expect(model.executions).toHaveLength(2);
  });

  it('lets a live history claim a report saved without its kernel process', () => {
    const model = new NotebookMemoryModel();
    const live = makeReport({ execution_count: 4, kernel_session: 'k1' });
    const saved = { ...live };
    delete saved.kernel_session;
    model.restore([{ report: saved, at: 10 }]);
    expect(model.isStale(saved)).toBe(true);
    expect(model.merge([live])).toBe(0);
    expect(model.executions).toEqual([saved]);
    expect(model.isStale(saved)).toBe(false);
  });

  it('places a re-sent history by its start times', () => {
    const model = new NotebookMemoryModel();
    const late = makeReport({ execution_count: 3, started_at: 3 });
    model.add(late);
    const early = makeReport({ execution_count: 1, started_at: 1 });
    model.merge([early]);
    expect(model.executions).toEqual([early, late]);
  });
});
