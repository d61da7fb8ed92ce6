/**
 * How an execution is named everywhere (table rows, timeline tooltips, details): by its cell's place in
 * the notebook and its run, "cell 5 · run 3". Execution counts start again at each restart; a cell's place
 * does not. Pure module.
 */
import { formatSeconds } from './format';
import { IReport } from './protocol';

/** Each code cell's 1-based place in the notebook, by cell id. */
export function cellPositions(ids: Iterable<string>): Map<string, number> {
  const positions = new Map<string, number>();
  let index = 0;
  for (const id of ids) {
    positions.set(id, ++index);
  }
  return positions;
}

/** "cell 5"; null for a cell not in the notebook (or of unknown id). */
export function cellName(
  cellId: string | null,
  positions: ReadonlyMap<string, number>
): string | null {
  const position = cellId === null ? undefined : positions.get(cellId);
  return position === undefined ? null : `cell ${position}`;
}

/** "cell 5 · run 3"; a cell no longer in the notebook (or of unknown id) by its execution count. */
export function executionLabel(
  report: IReport,
  positions: ReadonlyMap<string, number>
): string {
  const cell =
    cellName(report.cell_id, positions) ??
    (report.execution_count === null
      ? 'a deleted cell'
      : `[${report.execution_count}]`);
  return `${cell} · run ${report.run}`;
}

/** A progress line as shown: its text, and how long memdiag has worked once that is worth saying. */
export function progressLine(progress: {
  text: string;
  elapsed_s: number;
}): string {
  return progress.elapsed_s >= 0.1
    ? `${progress.text} (${formatSeconds(progress.elapsed_s)})`
    : progress.text;
}
