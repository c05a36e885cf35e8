import { escapeHtml, Html } from '../pages/html.ts';
import { en, type MessageKey } from './en.ts';
import { ko } from './ko.ts';
import type { Locale } from './locales.ts';

export type { MessageKey } from './en.ts';

/** One catalog per language; a message missing in one is a failing unit test, not a fallback. */
export const catalogs: Readonly<Record<Locale, Readonly<Record<MessageKey, string>>>> = { en, ko };

export type MessageParams = Readonly<Record<string, string | number | Html>>;

/**
 * The message `key` in `locale`, as markup. The catalog text is ours and trusted; every `{name}`
 * is replaced by `params[name]`, escaped unless it is already `Html`, so a client name or a
 * username can never become markup. A placeholder without a value is an error, not silent text.
 */
export function t(locale: Locale, key: MessageKey, params: MessageParams = {}): Html {
  const message = catalogs[locale][key] ?? en[key];
  return new Html(
    message.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new Error(`message "${key}" needs the parameter "${name}"`);
      return value instanceof Html ? value.value : escapeHtml(String(value));
    }),
  );
}

/** Whether the catalogs have a message for `key` (scope descriptions are looked up by name). */
export function hasMessage(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}

const dateFormats: Record<Locale, Intl.DateTimeFormat> = {
  en: new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeStyle: 'short', hourCycle: 'h23', timeZone: 'UTC' }),
  ko: new Intl.DateTimeFormat('ko-KR', { dateStyle: 'long', timeStyle: 'short', hourCycle: 'h23', timeZone: 'UTC' }),
};

/** A moment as people of `locale` write it, in UTC (the server does not know the reader's zone). */
export function formatDate(locale: Locale, epochMs: number): Html {
  return t(locale, 'account.date', { date: dateFormats[locale].format(epochMs) });
}
