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

// A tokenizer.json from an untrusted bundle must not yield ids outside its vocabulary.
test('a tokenizer that could produce ids outside its vocab_size is refused', () => {
  const byName = Object.fromEntries(tokenizers.map((t) => [t.tokenizer.type, t.tokenizer]));
  const copy = (json) => JSON.parse(JSON.stringify(json));
  const char = copy(byName.char);
  char.vocab_size = char.chars.length - 1;
  assert.throws(() => tokenizerFromJson(char), /more characters than its vocab_size/);
  const byte = copy(byName.byte);
  byte.vocab_size = 255;
  assert.throws(() => tokenizerFromJson(byte), /vocab_size below 256/);
  const bpe = copy(byName.bpe);
  const [first] = Object.keys(bpe.hf.model.vocab);
  bpe.hf.model.vocab[first] = bpe.vocab_size;
  assert.throws(() => tokenizerFromJson(bpe), /token id \d+, outside its vocab_size/);
  const gaps = copy(byName.bpe);
  delete gaps.hf.model.vocab.A;
  assert.throws(() => tokenizerFromJson(gaps), /no token for some byte values/);
});
