/**
 * Text contrast as the browser paints it: every colour of `root`'s text (HTML and SVG) against the colour
 * under it, per WCAG 2. Runs in the page (passed to page.evaluate).
 */
export interface ILowContrast {
  text: string;
  selector: string;
  ratio: number;
  color: string;
  background: string;
}

export function lowContrast(args: [string, number]): ILowContrast[] {
  const [rootSelector, minimum] = args;
  type RGBA = [number, number, number, number];
  const parse = (value: string): RGBA | null => {
    let m = value.match(/^rgba?\(([^)]+)\)$/);
    if (m) {
      const parts = m[1]
        .split(/[\s,/]+/)
        .filter(Boolean)
        .map(Number);
      return [parts[0], parts[1], parts[2], parts[3] ?? 1];
    }
    m = value.match(/^color\(srgb ([^)]+)\)$/);
    if (m) {
      const parts = m[1]
        .split(/[\s/]+/)
        .filter(Boolean)
        .map(Number);
      return [parts[0] * 255, parts[1] * 255, parts[2] * 255, parts[3] ?? 1];
    }
    return null;
  };
  const over = (top: RGBA, bottom: RGBA): RGBA => {
    const a = top[3];
    return [
      top[0] * a + bottom[0] * (1 - a),
      top[1] * a + bottom[1] * (1 - a),
      top[2] * a + bottom[2] * (1 - a),
      1
    ];
  };
  const background = (el: Element): RGBA => {
    const layers: RGBA[] = [];
    for (let node: Element | null = el; node; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg && bg[3] > 0) {
        layers.push(bg);
        if (bg[3] >= 1) {
          break;
        }
      }
    }
    let result: RGBA = [255, 255, 255, 1];
    for (const layer of layers.reverse()) {
      result = over(layer, result);
    }
    return result;
  };
  const luminance = (c: RGBA): number => {
    const channel = (v: number): number => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return (
      0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2])
    );
  };
  const found: ILowContrast[] = [];
  const root = document.querySelector(rootSelector);
  if (!root) {
    throw new Error(`no ${rootSelector}`);
  }
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const seen = new Set<Element>();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || seen.has(el) || !node.textContent?.trim()) {
      continue;
    }
    seen.add(el);
    const rect = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (
      rect.width === 0 ||
      style.visibility === 'hidden' ||
      el.closest('[hidden], option, select')
    ) {
      continue;
    }
    const isSvg = el instanceof SVGElement;
    const fg = parse(isSvg ? style.fill : style.color);
    if (!fg) {
      continue;
    }
    const bg = background(el);
    const opacity = Number(style.opacity) || 1;
    const painted = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
    const [l1, l2] = [luminance(painted), luminance(bg)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    if (ratio < minimum) {
      found.push({
        text: node.textContent.trim().slice(0, 40),
        selector: `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`,
        ratio: Math.round(ratio * 100) / 100,
        color: isSvg ? style.fill : style.color,
        background: `rgb(${bg.slice(0, 3).map(Math.round).join(',')})`
      });
    }
  }
  return found;
}
