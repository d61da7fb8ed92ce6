import { renderWhy } from '../whyview';

describe('renderWhy', () => {
  it('says immortal instead of a sentinel refcount (PEP 683)', () => {
    const node = renderWhy({ name: 'None', type: 'NoneType', refcount: null, immortal: true, size: 16 });
    expect(node.textContent).toContain('immortal');
    expect(node.textContent).not.toContain('4294967295');
  });

  it('shows a mortal object its real count and its chains', () => {
    const node = renderWhy({
      name: 'df',
      type: 'pandas.DataFrame',
      refcount: 3,
      backrefs: [{ root: 'Out[5]', chain: [{ label: 'DataFrame', edge: '' }] }]
    });
    expect(node.textContent).toContain('References3');
    expect(node.textContent).toContain('Out[5]');
    expect(node.textContent).not.toContain('immortal');
  });

  it('renders hostile strings as text', () => {
    const node = renderWhy({ name: '<img src=x onerror=alert(1)>', referrers: ['<b>x</b>'] });
    expect(node.querySelector('img')).toBeNull();
    expect(node.querySelector('b')).toBeNull();
    expect(node.textContent).toContain('<img src=x onerror=alert(1)>');
  });
});
