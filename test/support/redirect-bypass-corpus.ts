import assert from 'node:assert/strict';

/**
 * Return paths that must never become a redirect off this server (DESIGN invariant 9): other
 * origins written every way a browser or a URL parser reads one, dot segments that a
 * re-serialisation collapses into `//host`, in every encoding, and bytes a Location header cannot
 * carry. Every endpoint that redirects to a caller-supplied local path is tested against all of them.
 */
export const redirectBypassCorpus: readonly string[] = [
  '//evil.example',
  '//evil.example/',
  '///evil.example',
  '/\\evil.example',
  '/\\\\evil.example',
  '\\/evil.example',
  '\\\\evil.example',
  '/.//evil.example/',
  '/..//evil.example/',
  '/%2e//evil.example/',
  '/%2E//evil.example/',
  '/%2E%2E//evil.example',
  '/%2e%2E//evil.example',
  '/.%2e//evil.example',
  '/%2e.//evil.example',
  '/x/..//evil.example/',
  '/x/%2e%2e//evil.example',
  '/x/%2E%2e//evil.example',
  '/x/.%2E//evil.example',
  '/x/./..//evil.example',
  '/x/..',
  '/x/.',
  '/%2F/evil.example',
  '/%2f%2fevil.example',
  '/%5Cevil.example',
  '/%5cevil.example',
  'https://evil.example',
  'http:evil.example',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  ' /evil',
  '\t/evil',
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r/evil.example',
  '/ /evil.example',
  '/evil\r\nSet-Cookie: x=y',
  '/\u0000/evil.example',
  '/\u3002/evil.example',
  '/./evil',
  '/a/./b',
  '/a/../b',
  '/admin/..//evil.example',
  '/admin/%2e%2e//evil.example',
  '/account/..//evil.example',
  '/authorize/..//evil.example',
  '/authorize/../..//evil.example?a=1',
  '',
  'evil.example',
];

/**
 * A Location a browser can only resolve to this server: one `/` followed by neither `/` nor `\`,
 * printable ASCII only, and no dot segment in its path under any encoding.
 */
export function assertSafeLocalLocation(location: unknown, context: string): void {
  assert.equal(typeof location, 'string', `${context}: a Location header`);
  const value = location as string;
  assert.match(value, /^\/(?![/\\])[\x21-\x7e]*$/, `${context}: ${JSON.stringify(value)} is one slash and printable ASCII`);
  assert.ok(!value.includes('\\'), `${context}: ${JSON.stringify(value)} has no backslash`);
  const path = value.split(/[?#]/, 1)[0]!;
  for (const segment of path.split('/')) {
    const decoded = segment.replace(/%2e/gi, '.');
    assert.ok(decoded !== '.' && decoded !== '..', `${context}: ${JSON.stringify(value)} has no dot segment`);
  }
  assert.doesNotMatch(path, /%2f|%5c/i, `${context}: ${JSON.stringify(value)} has no encoded slash in its path`);
  const base = 'https://gatehouse.test';
  const resolved = new URL(value, base);
  assert.equal(resolved.origin, base, `${context}: ${JSON.stringify(value)} stays on this origin`);
  assert.ok(!resolved.pathname.startsWith('//'), `${context}: ${JSON.stringify(value)} does not resolve to //host`);
}
