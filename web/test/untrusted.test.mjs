// Untrusted registry and manifest values (src/untrusted.js, src/registry.js): unsafe
// characters are spelled out, only http(s) URLs are followed, bad entries are refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { cardUrl, checkEntry, describe, registryModels } from '../src/registry.js';
import { httpUrl, quote, visible } from '../src/untrusted.js';

const REGISTRY = 'http://127.0.0.1:8000/releases/registry.json';
const SHA = 'b'.repeat(64);

test('visible spells out C0 (but tab and newline), DEL, C1 and bidi controls', () => {
  // the spelling of Python's sup.formats.printable: \xHH below U+0100, \uHHHH above
  assert.equal(visible('\u001b[2J'), '\\x1b[2J');
  assert.equal(visible('\u001b]0;title\u0007'), '\\x1b]0;title\\x07');
  assert.equal(visible('\u001b]52;c;ZXZpbA==\u0007'), '\\x1b]52;c;ZXZpbA==\\x07');
  assert.equal(visible('a\tb\nc'), 'a\tb\nc');
  assert.equal(visible('\r\u0000\u000b\u000c\u001f\u007f'), '\\x0d\\x00\\x0b\\x0c\\x1f\\x7f');
  assert.equal(visible('\u0080\u009b2J\u009f'), '\\x80\\x9b2J\\x9f');
  for (const cp of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) {
    assert.equal(visible(String.fromCodePoint(cp)), `\\u${cp.toString(16)}`);
  }
  // every other character is left alone: text, markup (inert in textContent), emoji
  const plain = 'Naïve café 🎉 <img src=x onerror=alert(1)> \u00a0\u00a1 \u2029 \u200f';
  assert.equal(visible(plain), plain);
  assert.equal(visible(null), 'null');
  assert.equal(visible(42), '42');
});

test('visible leaves no unsafe character in any string', () => {
  let all = '';
  for (let cp = 0; cp < 0x2100; cp++) all += String.fromCodePoint(cp);
  assert.doesNotMatch(visible(all), /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
});

test('quote is one line, strings in double quotes, cut to the limit', () => {
  assert.equal(quote('a\nb\tc'), '"a\\x0ab\\x09c"');
  assert.equal(quote('evil\u001b]0;x\u0007\u202e'), '"evil\\x1b]0;x\\x07\\u202e"');
  assert.equal(quote(['a\nb']), '["a\\nb"]');
  assert.equal(quote(27), '27');
  assert.equal(quote(undefined), 'undefined');
  assert.equal(quote(1n), '1');
  assert.equal(quote('x'.repeat(200)).length, 80);
});

test('only http(s) URLs survive httpUrl', () => {
  const base = REGISTRY;
  const refused = [
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    ' javascript:alert(1)',
    '\u0000javascript:alert(1)',
    'java\tscript:alert(1)',
    'java\nscript:alert(1)',
    'vbscript:msgbox(1)',
    'data:text/html,<script>alert(1)</script>',
    'blob:http://127.0.0.1:8000/0b4d',
    'file:///etc/passwd',
    'ftp://example.com/card',
    'about:blank',
    'http://[',
    '',
    null,
    undefined,
    42,
    { toString: () => 'https://example.com/' },
  ];
  for (const ref of refused) assert.equal(httpUrl(ref, base), null, String(ref));
  assert.equal(httpUrl('kenosha-1/MODEL_CARD.md', base).href, 'http://127.0.0.1:8000/releases/kenosha-1/MODEL_CARD.md');
  assert.equal(httpUrl('https://example.com/card.md', base).href, 'https://example.com/card.md');
  assert.equal(httpUrl('//example.com/card.md', base).href, 'http://example.com/card.md');
  assert.equal(httpUrl('card.md', 'data:text/plain,x'), null); // a relative ref needs an http base
});

test('the card is a link only when it is an http(s) URL', () => {
  assert.equal(cardUrl({ card: 'javascript:alert(1)' }, REGISTRY), null);
  assert.equal(cardUrl({ card: null }, REGISTRY), null);
  assert.equal(cardUrl({}, REGISTRY), null);
  assert.equal(cardUrl({ card: 'x/MODEL_CARD.md' }, REGISTRY).href, 'http://127.0.0.1:8000/releases/x/MODEL_CARD.md');
});

test('a registry must be version 1 with object entries', () => {
  const ok = { format: 'sup-registry', version: 1, models: [{ id: 'a-1' }] };
  assert.deepEqual(registryModels(ok, REGISTRY), ok.models);
  assert.throws(() => registryModels({ ...ok, version: 2 }, REGISTRY), /not a version 1 sup registry/);
  assert.throws(() => registryModels(null, REGISTRY), /not a version 1 sup registry/);
  assert.throws(() => registryModels({ ...ok, models: [] }, REGISTRY), /lists no models/);
  for (const models of [{}, 'x', [null], [1], [['a']]]) {
    assert.throws(() => registryModels({ ...ok, models }, REGISTRY), /malformed model entries/);
  }
});

test('an entry with a bad id, path or sha256 is refused before anything is fetched', () => {
  const entry = { id: 'kenosha-1', path: 'kenosha-1/', manifest_sha256: SHA };
  assert.deepEqual(checkEntry(entry, REGISTRY), {
    url: 'http://127.0.0.1:8000/releases/kenosha-1/',
    manifestSha256: SHA,
  });
  const bad = {
    id: ['evil\u001b]0;x\u0007-1', 'Kenosha-1', '', 'a'.repeat(101), 7, null, 'a b'],
    path: [
      '../x/', '/x/', 'x', 'x/y/', 'https://example.com/x/', 'javascript:alert(1)//', '.x/', '',
      null, 'x/\n',
    ],
    manifest_sha256: [null, '', 'B'.repeat(64), 'b'.repeat(63), 'g'.repeat(64)],
  };
  for (const [key, values] of Object.entries(bad)) {
    for (const value of values) {
      assert.throws(
        () => checkEntry({ ...entry, [key]: value }, REGISTRY),
        (e) => e.message.includes(`a model entry has a bad ${key} `) && !e.message.includes('\n'),
        `${key} ${JSON.stringify(value)}`,
      );
    }
  }
});

test('a menu line survives any field of any type', () => {
  const entry = { id: 'a-1', params: 13152, size: 138453, tokenizer: { type: 'char' }, precision: 'fp32' };
  assert.equal(describe(entry), 'a-1 · 13k params · char · fp32 · 0.1 MB');
  const odd = { id: { x: 1 }, params: 'many', size: null, tokenizer: 'char', precision: ['fp32'] };
  assert.equal(describe(odd), '[object Object] · ? params · undefined · fp32 · ? MB');
  assert.equal(describe({}), 'undefined · ? params · undefined · undefined · ? MB');
});
