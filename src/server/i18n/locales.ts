/** The languages Gatehouse's pages speak. */
export const locales = ['en', 'ko'] as const;

export type Locale = (typeof locales)[number];

/** Each language named in itself, as a language switcher shows it. */
export const localeNames: Readonly<Record<Locale, string>> = { en: 'English', ko: '한국어' };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (locales as readonly string[]).includes(value);
}
