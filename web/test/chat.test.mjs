// The shared chat cases (tests/vectors/chat.json, made from the Python players' rules and
// also checked by tests/test_web_chat.py): the page must send a chat model exactly the
// ids `sup chat` sends, crop a conversation at the same turns, and refuse the same
// templates.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  chatContext,
  checkChatTemplate,
  encodeChat,
  fitTurns,
  render,
  specialMarkers,
} from '../src/chat.js';
import { tokenizerFromJson } from '../src/tokenizers.js';

const VECTORS = new URL('../../tests/vectors/chat.json', import.meta.url);
const {
  templates,
  tokenizers,
  long_conversation: LONG,
  bad_templates: bad,
} = JSON.parse(readFileSync(VECTORS, 'utf8'));

test('the shared templates are valid, and their markers are found in order', () => {
  for (const template of Object.values(templates)) checkChatTemplate(template);
  assert.deepEqual(specialMarkers(templates.guppy), [
    '<|system|>',
    '<|end|>',
    '<|user|>',
    '<|assistant|>',
  ]);
  assert.equal(specialMarkers(templates.spaced).at(-1), '<|tool|>');
  assert.deepEqual(specialMarkers(templates.plain), []);
});

for (const { name, tokenizer, encode, fit, context } of tokenizers) {
  const tok = tokenizerFromJson(tokenizer);

  test(`${name}: the special tokens are tokenizer.json's`, () => {
    assert.deepEqual(Object.fromEntries(tok.specialTokens()), tokenizer.special_tokens);
  });

  test(`${name}: encodeChat gives Python's ids`, () => {
    for (const { template, messages, ids } of encode) {
      const got = encodeChat(tok, templates[template], messages);
      assert.deepEqual(got, ids, JSON.stringify(messages));
    }
  });

  test(`${name}: fitTurns crops where Python does`, () => {
    for (const { template, budget, ids, dropped } of fit) {
      const got = fitTurns(tok, templates[template], LONG, budget);
      assert.deepEqual(got, { ids, dropped }, `budget ${budget}`);
    }
  });

  test(`${name}: chatContext is Python's chat_context`, () => {
    for (const { template, ids, dropped, ...c } of context) {
      const rule = { blockSize: c.block_size, promptPrefix: c.prompt_prefix, room: c.room };
      const got = chatContext(tok, templates[template], LONG, rule);
      assert.deepEqual(got, { ids, dropped }, JSON.stringify(rule));
    }
  });
}

bad.forEach(({ why, template }) => {
  test(`a template with ${why} is refused`, () => {
    assert.throws(() => checkChatTemplate(template), (e) => !e.message.includes('\n'));
  });
});

test('message text is never a replacement pattern', () => {
  const text = render(templates.plain, [{ role: 'user', content: "$& $1 $$ $' $`" }]);
  assert.equal(text, "User: $& $1 $$ $' $`\nBot: ");
});

test('a BPE tokenizer whose special_tokens differ from its added_tokens is refused', () => {
  const json = JSON.parse(JSON.stringify(tokenizers[0].tokenizer));
  json.special_tokens['<|user|>'] = json.special_tokens['<|end|>'];
  assert.throws(() => tokenizerFromJson(json), /special_tokens differ from its added_tokens/);
  const outside = JSON.parse(JSON.stringify(tokenizers[0].tokenizer));
  outside.special_tokens['<|user|>'] = outside.vocab_size;
  outside.hf.added_tokens.find((t) => t.content === '<|user|>').id = outside.vocab_size;
  assert.throws(() => tokenizerFromJson(outside), /"<\|user\|>" has id \d+, outside its vocab/);
});
