/**
 * `make stress`, browser part: 1,000 cells on a 5M-object heap with the sidebar open, sent through the notebook's own
 * kernel connection with cell ids as JupyterLab sends them. No error; the tab's memory stays bounded.
 */
import { expect, test } from '@jupyterlab/galata';

test('1,000 cells with the sidebar open', async ({ page }) => {
  test.setTimeout(900000);
  await page.notebook.createNew('stress.ipynb', { kernel: 'python3' });
  await page.notebook.setCell(
    0,
    'code',
    'heap = [[i] for i in range(2_500_000)]'
  );
  await page.sidebar.openTab('memdiag-sidebar');
  await expect(
    page.locator('#memdiag-sidebar .memdiag-Status')
  ).toHaveAttribute('data-memdiag-status', 'ready');
  await page.notebook.runCell(0, true);
  const result = await page.evaluate(async () => {
    const tracker: any = await (window as any).galata.getPlugin(
      'memdiag:plugin'
    );
    const memory = tracker.current;
    const kernel = memory.panel.sessionContext.session.kernel;
    const heap = () => (performance as any).memory?.usedJSHeapSize ?? NaN;
    const before = heap();
    let errors = 0;
    for (let i = 0; i < 1000; i++) {
      const code =
        i % 3 === 0
          ? `x${i % 7} = bytearray(${(i % 5) * 100_000})`
          : i % 3 === 1
            ? 'y = [1] * 1000'
            : 'pass';
      const future = kernel.requestExecute(
        { code, store_history: true },
        true,
        { cellId: `stress-${i % 40}` }
      );
      const reply = await future.done;
      errors += reply.content.status === 'ok' ? 0 : 1;
    }
    await new Promise(resolve => setTimeout(resolve, 2000));
    (window as any).gc?.();
    return {
      errors,
      executions: memory.model.executions.length,
      heapBefore: before,
      heapAfter: heap(),
      status: memory.bridge.status
    };
  });
  process.stdout.write(`stress: ${JSON.stringify(result)}\n`);
  expect(result.errors).toBe(0);
  expect(result.status).toBe('ready');
  // The model keeps its window (history length setting), whatever ran.
  expect(result.executions).toBeLessThanOrEqual(500);
  expect(result.executions).toBeGreaterThan(400);
  if (Number.isFinite(result.heapAfter)) {
    // Bounded: the tab's JS heap does not grow with the number of cells beyond the kept window.
    expect(result.heapAfter - result.heapBefore).toBeLessThan(
      150 * 1024 * 1024
    );
  }
});
