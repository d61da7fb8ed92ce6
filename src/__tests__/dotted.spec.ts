/**
 * @jest-environment jsdom
 */
import { dotted } from '../detailparts';

describe('dotted', () => {
  it('keeps the text and lets it break only after its dots', () => {
    const span = dotted('numpy.random._generator.Generator');
    expect(span.textContent).toBe('numpy.random._generator.Generator');
    expect(span.querySelectorAll('wbr')).toHaveLength(3);
    // Each break opportunity follows a dot: no word is cut.
    const before = Array.from(span.querySelectorAll('wbr')).map(
      wbr => wbr.previousSibling?.textContent
    );
    expect(before).toEqual(['numpy.', 'random.', '_generator.']);
    expect(dotted('int').querySelectorAll('wbr')).toHaveLength(0);
    // Kernel text stays text: markup in a name is never parsed.
    expect(dotted('<b>x</b>.y').querySelector('b')).toBeNull();
  });
});
