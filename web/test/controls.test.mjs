// The shared controls cases (tests/vectors/controls.json, also run by
// tests/test_controls.py): the page must build exactly the prompt the Python players
// build, and refuse exactly the values and controls objects they refuse.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { buildPrompt, checkControls, ControlError, renderPrompt, resolveValues } from '../src/controls.js';

const VECTORS = new URL('../../tests/vectors/controls.json', import.meta.url);
const { controls: shared, cases, bad_controls: bad } = JSON.parse(readFileSync(VECTORS, 'utf8'));

test('the shared controls are valid', () => {
  for (const [name, controls] of Object.entries(shared)) checkControls(controls, name);
});

cases.forEach((c, i) => {
  test(`case ${i}: ${c.error ? `refuses ${c.error}` : JSON.stringify(c.prompt)}`, () => {
    const controls = shared[c.controls];
    if (c.error) {
      assert.throws(
        () => resolveValues(controls, c.given, c.user_prompt),
        (e) => e instanceof ControlError && e.field === c.error && !e.message.includes('\n'),
      );
    } else {
      const { values, rest } = resolveValues(controls, c.given, c.user_prompt);
      assert.equal(renderPrompt(controls, values, rest), c.prompt);
    }
  });
});

for (const c of bad) {
  test(`bad controls refused: ${c.why}`, () => {
    assert.throws(() => checkControls(c.controls, 'manifest.json'), /^Error: manifest\.json \(controls\): /);
  });
}

test('a prompt the context cannot hold is refused, not cropped', () => {
  const text = buildPrompt(shared.gatsby, {}, 'the sea', (t) => [...t].length, 80);
  assert.ok(text.endsWith('topic: the sea\n'));
  assert.throws(
    () => buildPrompt(shared.gatsby, {}, 'the sea', (t) => [...t].length, [...text].length),
    (e) => e.field === 'topic' && /shorten --topic/.test(e.message),
  );
});
