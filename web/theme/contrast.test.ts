import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contrast, palettes, TEXT_PAIRS } from './contrast';

const css = readFileSync(new URL('../styles.css', import.meta.url), 'utf8');
const { light, dark } = palettes(css);

describe('contrast', () => {
  it('measures as WCAG does', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#ffffff', '#ffffff')).toBe(1);
    expect(contrast('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
  });
});

describe.each([
  ['light', light],
  ['dark', dark],
])('the %s palette', (_name, palette) => {
  const pairs = TEXT_PAIRS.flatMap(([text, backs]) => backs.map((back) => [text, back] as const));
  it.each(pairs)('--%s on --%s reaches 4.5 : 1 (WCAG 2.2 AA)', (text, back) => {
    const fg = palette[text];
    const bg = palette[back];
    expect(fg, `--${text}`).toBeDefined();
    expect(bg, `--${back}`).toBeDefined();
    expect(contrast(fg!, bg!)).toBeGreaterThanOrEqual(4.5);
  });
});

it('gives the dark theme its own value for every colour', () => {
  // A colour left out of the dark block would silently keep its light value.
  const own = palettes(css.replace(/:root \{[\s\S]*?\n\}/, ':root {\n}')).dark;
  expect(Object.keys(own).sort()).toEqual(Object.keys(light).sort());
});

it('paints the dark background before the theme script runs on a dark system', () => {
  const early = /:root:not\(\[data-theme\]\) \{[^}]*background: (#[0-9a-f]{6});/.exec(css);
  expect(early?.[1]).toBe(dark.bg);
});
