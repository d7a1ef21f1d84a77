// Every shared tokenizer vector (tests/vectors/tokenizers.json, made from the Python
// tokenizers) must come out of the browser tokenizers exactly: ids, unknown count, bytes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { tokenizerFromJson } from '../src/tokenizers.js';

const VECTORS = new URL('../../tests/vectors/tokenizers.json', import.meta.url);
const { tokenizers } = JSON.parse(readFileSync(VECTORS, 'utf8'));
const hex = (bytes) => Buffer.from(bytes).toString('hex');

for (const { name, tokenizer, cases } of tokenizers) {
  test(`${name}: encode and token bytes match Python`, () => {
    const tok = tokenizerFromJson(tokenizer);
    for (const { text, ids, unknown, token_bytes_hex: bytesHex } of cases) {
      const got = tok.encode(text);
      assert.deepEqual(got.ids, ids, `ids of ${JSON.stringify(text)}`);
      assert.equal(got.unknown, unknown, `unknown count of ${JSON.stringify(text)}`);
      const bytes = ids.map((id) => hex(tok.tokenBytes(id)));
      assert.deepEqual(bytes, bytesHex, `bytes of ${JSON.stringify(text)}`);
    }
  });
}
