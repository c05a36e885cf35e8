/**
 * The key that decides whether two usernames are the same account: what login looks an account
 * up by, and what the unique index of `accounts.username_key` holds. The username itself is kept
 * as it was typed, for display.
 *
 * 1. Unicode NFKC (UAX #15): compatibility forms become their plain letter, so fullwidth `ａｌｉｃｅ`,
 *    ligatures (`ﬁ`) and circled or superscript letters match what they look like.
 * 2. Lower case, then NFKC again (lower-casing can leave a string that NFKC would change): `Alice`
 *    and `alice` are one name.
 * 3. A skeleton in the spirit of Unicode TR #39 §4: the Cyrillic and Greek letters that look like a
 *    Latin letter in common fonts are replaced by it, so `аlice` (Cyrillic а) is `alice`. Only the
 *    lower-case forms are listed, since step 2 has run. The table is deliberately short: it
 *    refuses the look-alikes that impersonation uses, without merging names that merely differ.
 *
 * Changing this scheme changes the key of existing rows: it needs a migration that recomputes
 * them (2026-12-04T00-usernames computes them with this function).
 */
export function usernameKey(username: string): string {
  const folded = username.normalize('NFKC').toLowerCase().normalize('NFKC');
  let key = '';
  for (const char of folded) key += latinLookalike.get(char) ?? char;
  return key;
}

/** Cyrillic and Greek lower-case letters → the Latin letter they are mistaken for. */
const latinLookalike = new Map<string, string>(
  Object.entries({
    // Cyrillic
    'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'һ': 'h', 'і': 'i', 'ї': 'i', 'ј': 'j', 'к': 'k', 'ӏ': 'l',
    'о': 'o', 'р': 'p', 'ԛ': 'q', 'ѕ': 's', 'с': 'c', 'у': 'y', 'ү': 'y', 'ԝ': 'w', 'х': 'x', 'ԁ': 'd', 'ѵ': 'v',
    // Greek
    'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't',
    'υ': 'u', 'χ': 'x', 'γ': 'y', 'ω': 'w', 'ϲ': 'c', 'ϳ': 'j',
    // Latin letters outside ASCII that read as an ASCII one
    'ı': 'i', 'ȷ': 'j', 'ɑ': 'a', 'ɡ': 'g', 'ɩ': 'i',
  }),
);
