/**
 * CSS colours as browsers compute them, and WCAG contrast between them. The Workers bars mix theme colours
 * (`color-mix()`), which Chromium computes as `color(srgb r g b)`: Vega's colour parser and contrast checks
 * need plain sRGB. Pure module.
 */

/** An sRGB colour, channels 0–255, alpha 0–1. */
export interface IRgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

const clamp = (value: number, low: number, high: number): number =>
  Math.min(high, Math.max(low, value));

/** A channel written as a number or a percentage; `unit` is what 100% means. */
function channel(text: string, unit: number): number {
  const value = parseFloat(text);
  return text.trim().endsWith('%') ? (value / 100) * unit : value;
}

function alpha(text: string | undefined): number {
  return text === undefined ? 1 : clamp(channel(text, 1), 0, 1);
}

/**
 * Parse `#rgb`, `#rrggbb`, `#rrggbbaa`, `rgb()`/`rgba()` (comma or space syntax) and `color(srgb …)`: what
 * getComputedStyle returns for colours. Null for anything else.
 */
export function parseCssColor(text: string): IRgba | null {
  const value = text.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3,8})$/.exec(value);
  if (hex) {
    let digits = hex[1];
    if (digits.length === 3 || digits.length === 4) {
      digits = [...digits].map(d => d + d).join('');
    }
    if (digits.length !== 6 && digits.length !== 8) {
      return null;
    }
    const at = (i: number): number => parseInt(digits.slice(i, i + 2), 16);
    return {
      r: at(0),
      g: at(2),
      b: at(4),
      a: digits.length === 8 ? at(6) / 255 : 1
    };
  }
  const fn = /^(rgba?|color)\((.*)\)$/.exec(value);
  if (!fn) {
    return null;
  }
  const [body, slashAlpha] = fn[2].split('/');
  const parts = body
    .replace(/,/g, ' ')
    .split(/\s+/)
    .filter(part => part.length > 0);
  if (fn[1] === 'color') {
    if (parts[0] !== 'srgb' || parts.length < 4) {
      return null;
    }
    const [r, g, b] = parts.slice(1, 4).map(p => channel(p, 1) * 255);
    return valid({ r, g, b, a: alpha(slashAlpha ?? parts[4]) });
  }
  if (parts.length < 3) {
    return null;
  }
  const [r, g, b] = parts.slice(0, 3).map(p => channel(p, 255));
  return valid({ r, g, b, a: alpha(slashAlpha ?? parts[3]) });
}

function valid(color: IRgba): IRgba | null {
  const { r, g, b, a } = color;
  return [r, g, b, a].every(Number.isFinite)
    ? {
        r: clamp(r, 0, 255),
        g: clamp(g, 0, 255),
        b: clamp(b, 0, 255),
        a
      }
    : null;
}

/** `top` painted over the opaque `bottom`. */
export function over(top: IRgba, bottom: IRgba): IRgba {
  const mix = (a: number, b: number): number => a * top.a + b * (1 - top.a);
  return {
    r: mix(top.r, bottom.r),
    g: mix(top.g, bottom.g),
    b: mix(top.b, bottom.b),
    a: 1
  };
}

/** `rgb(r, g, b)` or `rgba(…)`, which every colour parser reads (Vega's d3-color included). */
export function toCssRgb(color: IRgba): string {
  const [r, g, b] = [color.r, color.g, color.b].map(Math.round);
  return color.a < 1
    ? `rgba(${r}, ${g}, ${b}, ${+color.a.toFixed(3)})`
    : `rgb(${r}, ${g}, ${b})`;
}

/** WCAG 2 relative luminance of an opaque colour. */
export function luminance(color: IRgba): number {
  const linear = (c: number): number => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  };
  return (
    0.2126 * linear(color.r) +
    0.7152 * linear(color.g) +
    0.0722 * linear(color.b)
  );
}

/**
 * WCAG 2 contrast ratio (1–21) of `a` against `b`; a translucent `a` is first painted over `b`, which must
 * be opaque. Text wants 4.5, shapes and bar segments 3 (WCAG 1.4.3, 1.4.11).
 */
export function contrastRatio(a: IRgba, b: IRgba): number {
  const front = a.a < 1 ? over(a, b) : a;
  const [hi, lo] = [luminance(front), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
