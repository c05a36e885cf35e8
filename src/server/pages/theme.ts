/**
 * /assets/theme.css: the configured brand color as CSS custom properties, so branding is data
 * and the pages keep a strict Content-Security-Policy (no inline style). The derived colors keep
 * WCAG 2.x AA contrast whatever color is configured.
 */
export function themeStylesheet(primaryColor: string): string {
  const primary = parseHex(primaryColor);
  // White or black, whichever contrasts more: one of them always reaches 4.5:1 (at worst 4.58:1).
  const onPrimary = contrast(primary, white) >= contrast(primary, black) ? white : black;
  // Text and focus rings on white need 4.5:1 (SC 1.4.3); darken the brand color until they have it.
  let text = primary;
  for (let step = 1; contrast(text, white) < 4.5 && step <= 20; step++) text = mix(primary, black, step / 20);
  return `:root {
  --primary: ${toHex(primary)};
  --on-primary: ${toHex(onPrimary)};
  --primary-text: ${toHex(text)};
}
`;
}

type Rgb = readonly [number, number, number];

const white: Rgb = [255, 255, 255];
const black: Rgb = [0, 0, 0];

/** `#rgb` or `#rrggbb` (validated by config/load.ts). */
export function parseHex(color: string): Rgb {
  const digits = color.slice(1);
  const full = digits.length === 3 ? [...digits].map((digit) => digit + digit).join('') : digits;
  return [0, 2, 4].map((offset) => parseInt(full.slice(offset, offset + 2), 16)) as unknown as Rgb;
}

function toHex(color: Rgb): string {
  return `#${color.map((channel) => Math.round(channel).toString(16).padStart(2, '0')).join('')}`;
}

function mix(from: Rgb, to: Rgb, amount: number): Rgb {
  return from.map((channel, index) => channel + (to[index]! - channel) * amount) as unknown as Rgb;
}

/** WCAG 2.x relative luminance. */
function luminance(color: Rgb): number {
  const [r, g, b] = color.map((channel) => {
    const c = channel / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2.x contrast ratio, from 1 to 21. */
export function contrast(a: Rgb, b: Rgb): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}
