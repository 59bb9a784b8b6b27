/**
 * WCAG 2.2 contrast between two sRGB colours, and the palettes read out of web/styles.css: the light theme is
 * `:root { … }`, the dark one `:root[data-theme='dark'] { … }` on top of it.
 */
export type Palette = Record<string, string>;

function channels(hex: string): [number, number, number] {
  let h = hex.replace('#', '');
  if (h.length === 3) h = [...h].map((c) => c + c).join('');
  if (!/^[0-9a-f]{6}$/i.test(h)) throw new Error(`not a #rrggbb colour: ${hex}`);
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16) / 255) as [number, number, number];
}

/** Relative luminance (WCAG 2.2, "relative luminance"). */
export function luminance(hex: string): number {
  const [r, g, b] = channels(hex).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Contrast ratio, 1 to 21. */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The `--name: #hex` declarations of the first rule whose selector is exactly `selector`. */
function block(css: string, selector: string): Palette {
  const start = css.indexOf(`${selector} {`);
  if (start < 0) throw new Error(`no rule for ${selector}`);
  const body = css.slice(start + selector.length + 2, css.indexOf('\n}', start));
  const out: Palette = {};
  for (const m of body.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{3,6})\s*;/g)) out[m[1]!] = m[2]!;
  return out;
}

export function palettes(css: string): { light: Palette; dark: Palette } {
  const light = block(css, ':root');
  return { light, dark: { ...light, ...block(css, ":root[data-theme='dark']") } };
}

/** Every text colour and the backgrounds it is set on, as the stylesheets use them. */
export const TEXT_PAIRS: readonly (readonly [text: string, backgrounds: readonly string[]])[] = [
  ['ink', ['bg', 'surface', 'surface-2', 'surface-hover', 'field', 'accent-soft', 'warn-soft', 'danger-soft', 'info-soft']],
  ['ink-soft', ['bg', 'surface', 'surface-2', 'surface-hover', 'accent-soft', 'warn-soft', 'danger-soft', 'info-soft']],
  ['muted', ['bg', 'surface', 'surface-2', 'surface-hover', 'field', 'accent-soft', 'warn-soft', 'danger-soft', 'info-soft']],
  ['brand-ink', ['brand']],
  ['on-accent', ['accent']],
  ['on-danger', ['danger']],
  ['brand-fg', ['bg', 'surface']],
  ['accent', ['bg', 'surface', 'accent-soft']],
  ['accent-ink', ['surface', 'accent-soft']],
  ['warn', ['bg', 'surface', 'warn-soft']],
  ['danger', ['bg', 'surface', 'danger-soft']],
  ['danger-ink', ['danger-soft']],
  ['info', ['bg', 'surface', 'info-soft']],
];
