import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configurationReference } from '../../src/server/config/reference.ts';
import { optionDocs } from '../../src/server/config/defaults.ts';

test('docs/configuration.md is the one generated from the defaults file (run npm run docs:config)', () => {
  const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  assert.equal(committed, configurationReference());
});

test('every option documents a unit and a reason', () => {
  for (const [name, option] of Object.entries(optionDocs)) {
    assert.ok(option.unit, `${name} has no unit`);
    assert.ok(option.doc.length > 20, `${name} has no real explanation`);
  }
});
