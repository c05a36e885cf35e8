/**
 * The one check for a redirect to a caller-supplied path on this server (DESIGN invariant 9). It
 * is applied to the exact string that goes into `Location`, after any re-serialisation: a
 * `new URL()` round trip collapses dot segments, so `/.//evil.example` checked before it becomes
 * `//evil.example` after it, which a browser reads as another host (RFC 3986 §4.2, §5.2.4).
 */

/** One `/`, then neither `/` nor `\` (both start an authority in a browser), then printable ASCII only. */
const oneSlashPrintable = /^\/(?![/\\])[\x21-\x7e]*$/;

/**
 * A path segment that is `.` or `..` once `%2e` is read as a dot: a browser, a proxy or a URL
 * parser may remove it (RFC 3986 §5.2.4, and WHATWG URL treats `%2e` as a dot).
 */
const dotSegment = /^(?:\.|%2e){1,2}$/i;

/**
 * An encoded `/` or `\` in the path: harmless to a browser, but a proxy or a later decoding turns
 * it into the `//host` this check exists to refuse.
 */
const encodedSeparator = /%(?:2f|5c)/i;

export function isSafeLocalPath(value: string): boolean {
  if (!oneSlashPrintable.test(value) || value.includes('\\')) return false;
  // The query and fragment are data, not path: an /authorize return carries `redirect_uri=https%3A%2F%2F…`.
  const path = value.split(/[?#]/, 1)[0]!;
  if (encodedSeparator.test(path)) return false;
  return !path.split('/').some((segment) => dotSegment.test(segment));
}

/** `value` when it is a safe local path, else `fallback` (a fixed path of the caller's). */
export function safeLocalPath(value: string | undefined, fallback = '/'): string {
  return value !== undefined && isSafeLocalPath(value) ? value : fallback;
}
