import { renderWhy, whyExpression } from '../whyview';

describe('renderWhy', () => {
  it('says immortal instead of a sentinel refcount (PEP 683)', () => {
    const node = renderWhy({
      name: 'None',
      type: 'NoneType',
      refcount: null,
      immortal: true,
      size: 16
    });
    expect(node.textContent).toContain('immortal');
    expect(node.textContent).not.toContain('4294967295');
  });

  it('shows a mortal object its real count and its chains', () => {
    const node = renderWhy({
      name: 'df',
      type: 'pandas.DataFrame',
      refcount: 3,
      backrefs: [
        {
          type: 'pandas.DataFrame',
          root: 'Out[5]',
          chain: [{ label: 'DataFrame', edge: '' }]
        }
      ]
    });
    expect(node.textContent).toContain('References3');
    expect(node.textContent).toContain('Out[5]');
    expect(node.textContent).not.toContain('immortal');
  });

  it('renders hostile strings as text', () => {
    const node = renderWhy({
      name: '<img src=x onerror=alert(1)>',
      type: '<i>T</i>',
      refcount: 1,
      referrers: ['<b>x</b>']
    });
    expect(node.querySelector('img')).toBeNull();
    expect(node.querySelector('b')).toBeNull();
    expect(node.querySelector('i')).toBeNull();
    expect(node.textContent).toContain('<img src=x onerror=alert(1)>');
  });

  it('gives the size an object keeps alive in units, with its own header beside it', () => {
    const node = renderWhy({
      name: 'Out[3]',
      type: 'numpy.ndarray',
      refcount: 4,
      size: 20_000_185,
      own_size: 128
    });
    expect(node.textContent).toContain('Keeps alive20 MB (itself 128 B)');
    const plain = renderWhy({
      name: 'x',
      type: 'int',
      refcount: 2,
      size: 28,
      own_size: 28
    });
    expect(plain.textContent).toContain('Keeps alive28 B');
    expect(plain.textContent).not.toContain('itself');
  });
});

describe('whyExpression', () => {
  it('refuses an empty name', () => {
    expect(whyExpression('  df ')).toBe('df');
    expect(whyExpression('   ')).toBeNull();
  });
});
