import { nullTranslator } from '@jupyterlab/translation';

import { chainList } from '../detailparts';
import { isReport } from '../protocol';
import { makeReport } from './fixtures';

const trans = nullTranslator.load('memdiag');
const IMG = '<img src=x onerror=alert(1)>';

describe('chainList', () => {
  it('shows each root with the bytes it keeps and its advice, as text', () => {
    const report = makeReport({
      backrefs: [
        {
          type: 'numpy.ndarray',
          root: 'Out[10]',
          size: 20_000_000,
          advice: `end the cell with ; ${IMG}`,
          chain: [{ label: 'numpy.ndarray', edge: '' }]
        }
      ]
    });
    const node = chainList(report, trans);
    expect(node.textContent).toContain('Out[10]');
    expect(node.textContent).toContain('20 MB');
    expect(node.querySelector('.memdiag-Detail-advice')?.textContent).toContain(
      'end the cell with ;'
    );
    expect(node.querySelector('img')).toBeNull();
  });

  it('says a fix once, under the first chain it fixes', () => {
    const out = (n: number, advice: string) => ({
      type: 'numpy.ndarray',
      root: `Out[${n}]`,
      size: 40_000_000,
      advice,
      chain: [{ label: 'numpy.ndarray', edge: '' }]
    });
    const reset = "IPython's output cache keeps every displayed result";
    const report = makeReport({
      backrefs: [
        out(10, reset),
        out(30, reset),
        out(31, reset),
        out(5, 'del x')
      ]
    });
    const items = [...chainList(report, trans).querySelectorAll('li')];
    const advice = items.map(
      li => li.querySelector('.memdiag-Detail-advice')?.textContent ?? null
    );
    expect(advice).toEqual([reset, null, null, 'del x']);
    expect(items[1].textContent).toContain('Out[30]');
  });

  it('says when the search ran out of time', () => {
    const report = {
      ...makeReport({ backrefs: [] }),
      backrefs_truncated: true
    } as any;
    expect(chainList(report, trans).textContent).toContain('ran out of time');
    expect(
      chainList(makeReport({ backrefs: [] }), trans).textContent
    ).not.toContain('ran out of time');
  });

  it('rejects advice that is not a string', () => {
    const report = makeReport({
      backrefs: [{ type: 't', root: 'r', chain: [], advice: 42 as any }]
    });
    expect(isReport(report)).toBe(false);
    expect(
      isReport(
        makeReport({
          backrefs: [{ type: 't', root: 'r', chain: [], advice: 'ok' }]
        })
      )
    ).toBe(true);
  });
});
