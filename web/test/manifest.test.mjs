// The manifest checks the player runs before using a bundle (src/manifest.js): every
// member of each class of bad value is refused with one line naming the field, and a
// manifest as `sup export` writes it passes.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  checkFiles,
  checkGraph,
  checkManifest,
  checkTokenizer,
  MAX_BLOCK_SIZE,
  MAX_CACHE_BYTES,
  MAX_NEW_TOKENS,
} from '../src/manifest.js';

const WHERE = 'http://127.0.0.1/b/manifest.json';
const SHA = 'a'.repeat(64);

/** A manifest like tiny-char-1's: vocabulary 27, context 16. */
function good() {
  return {
    format: 'sup-bundle',
    version: 1,
    id: 'tiny-char-1',
    model: { arch: 'modern', n_layer: 1, n_head: 2, n_embd: 32, head_dim: 16, block_size: 16, vocab_size: 27 },
    graphs: { full: 'model.onnx', kv: 'model.kv.onnx' },
    tokenizer: { file: 'tokenizer.json', type: 'char', vocab_size: 27, eot_id: 25, unk_id: 26 },
    generation: {
      prompt_prefix: [25],
      unprompted_start: [0],
      stop_ids: [25],
      banned_ids: [26],
      cache_restart_keep: 8,
      defaults: { temperature: 0.8, top_k: null, top_p: null, max_new_tokens: 300 },
      demo_prompt: 'you never',
    },
    files: ['model.kv.onnx', 'model.onnx', 'tokenizer.json'].map((name) => ({ name, sha256: SHA, size: 1 })),
  };
}

/** `good()` changed by `edit`, which may mutate it. */
function changed(edit) {
  const m = good();
  edit(m);
  return m;
}

function refused(manifest, pattern, label) {
  assert.throws(
    () => {
      checkFiles(manifest, WHERE);
      checkManifest(manifest, WHERE);
    },
    (e) => {
      assert.match(e.message, pattern, label);
      assert.match(e.message, /^http:\/\/127\.0\.0\.1\/b\/manifest\.json: .*; refusing the bundle$/, label);
      assert.ok(!e.message.includes('\n'), `${label}: one line`);
      return true;
    },
    label,
  );
}

test('a manifest as sup export writes it passes', () => {
  checkFiles(good(), WHERE);
  checkManifest(good(), WHERE);
  checkManifest(changed((m) => delete m.generation.demo_prompt), WHERE);
  const edge = changed((m) => {
    m.generation.prompt_prefix = Array(15).fill(0); // block_size - 1 tokens
    m.generation.cache_restart_keep = 16;
    m.generation.defaults = { temperature: 0, top_k: 1, top_p: 1, max_new_tokens: 1 };
  });
  checkManifest(edge, WHERE);
  checkManifest(changed((m) => (m.generation.defaults.temperature = 100)), WHERE);
  checkManifest(changed((m) => (m.generation.defaults.temperature = 0.01)), WHERE);
});

test('graph and tokenizer names other than the fixed ones are refused', () => {
  const names = [
    '../releases/tiny-char-1/model.onnx',
    '/releases/tiny-char-1/model.onnx',
    'https://example.com/model.onnx',
    'sub/model.onnx',
    'MODEL.onnx',
    'model.onnx ',
    '',
    null,
    undefined,
    ['model.onnx'],
  ];
  for (const name of names) {
    const label = JSON.stringify(name);
    for (const [key, field] of [['full', 'graphs.full'], ['kv', 'graphs.kv']]) {
      refused(changed((m) => (m.graphs[key] = name)), new RegExp(`${field} is .*but it must be`), label);
    }
    refused(changed((m) => (m.tokenizer.file = name)), /tokenizer.file is .*but it must be/, label);
  }
  refused(changed((m) => delete m.graphs), /graphs.full is undefined/, 'no graphs');
  // swapped: each is a listed plain name, but not the one the field must hold
  refused(changed((m) => (m.graphs.kv = 'model.onnx')), /graphs.kv is "model.onnx"/, 'swap');
});

test('graphs and the tokenizer must be listed in files', () => {
  for (const name of ['model.onnx', 'model.kv.onnx', 'tokenizer.json']) {
    const m = changed((m) => (m.files = m.files.filter((f) => f.name !== name)));
    refused(m, new RegExp(`"${name.replace('.', '\\.')}" is not listed in files`), name);
  }
});

test('model dimensions must be positive integers, and the cache must fit the tab', () => {
  for (const key of ['n_layer', 'n_head', 'head_dim', 'block_size', 'vocab_size']) {
    for (const value of [0, -1, 1.5, '4', null, undefined, NaN, Infinity, 2 ** 53, true]) {
      const label = `${key} ${String(value)}`;
      refused(changed((m) => (m.model[key] = value)), new RegExp(`model\\.${key} must be a whole number`), label);
    }
  }
  refused(changed((m) => (m.model = null)), /no model object/, 'no model');
  const huge = changed((m) => {
    m.model.n_layer = 4; // 4 layers × K and V × 2 heads × 16 floats: 1 KB a position
    m.model.block_size = MAX_BLOCK_SIZE;
  });
  assert.ok(4 * 2 * 2 * 16 * 4 * MAX_BLOCK_SIZE > MAX_CACHE_BYTES);
  refused(huge, /KV cache at full context is 1024 MB, more than the 256 MB/, 'huge cache');
  refused(
    changed((m) => (m.model.block_size = MAX_BLOCK_SIZE + 1)),
    /model\.block_size must be a whole number from 1 to 1048576, not 1048577/,
    'block_size bound',
  );
  refused(
    changed((m) => (m.tokenizer.vocab_size = 28)),
    /tokenizer\.vocab_size is 28, not the model's 27/,
    'tokenizer vocab_size',
  );
  for (const id of ['Tiny-1', '../x', '', null, 7]) {
    refused(changed((m) => (m.id = id)), /the bundle's id .* is not a valid id/, `id ${id}`);
  }
});

test('every generation id must be a token id of this vocabulary', () => {
  for (const key of ['prompt_prefix', 'unprompted_start', 'stop_ids', 'banned_ids']) {
    for (const id of [27, 1000, -1, 1.5, '3', null, NaN]) {
      const label = `${key} ${String(id)}`;
      const pattern = new RegExp(`generation\\.${key} holds .*not a token id of this model \\(0 to 26\\)`);
      refused(changed((m) => m.generation[key].push(id)), pattern, label);
    }
    for (const value of [null, 25, 'abc', { 0: 1 }]) {
      const pattern = new RegExp(`generation\\.${key} must be a list of token ids`);
      refused(changed((m) => (m.generation[key] = value)), pattern, `${key} ${String(value)}`);
    }
  }
  const lengths = [
    ['unprompted_start', [], /unprompted_start has 0 tokens, not from 1 to model.block_size 16/],
    ['unprompted_start', Array(17).fill(0), /has 17 tokens, not from 1 to model.block_size 16/],
    ['stop_ids', Array(28).fill(0), /stop_ids has 28 tokens, not at most model.vocab_size 27/],
    ['banned_ids', [...Array(27).keys()], /banned_ids has 27 tokens, not fewer than model.voc/],
  ];
  for (const [key, ids, pattern] of lengths) {
    refused(changed((m) => (m.generation[key] = ids)), pattern, `${key} of ${ids.length}`);
  }
});

test('lengths must fit the context', () => {
  const long = changed((m) => (m.generation.prompt_prefix = Array(16).fill(0)));
  refused(long, /prompt_prefix has 16 tokens, not fewer than model.block_size 16/, 'prefix');
  for (const keep of [0, 17, -1, 2.5, null, '8']) {
    const pattern = /cache_restart_keep must be a whole number from 1 to model.block_size 16/;
    refused(changed((m) => (m.generation.cache_restart_keep = keep)), pattern, String(keep));
  }
});

test('defaults must follow the knobs\u2019 rules', () => {
  const bad = {
    temperature: [0.005, 100.5, -1, NaN, Infinity, '0.8', null, undefined],
    top_k: [0, -1, 1.5, '5', undefined],
    top_p: [0, -0.1, 1.01, '0.9', NaN, undefined],
    max_new_tokens: [0, -1, 2.5, null, '300', MAX_NEW_TOKENS + 1],
  };
  for (const [key, values] of Object.entries(bad)) {
    for (const value of values) {
      const pattern = new RegExp(`generation\\.defaults\\.${key} must be`);
      refused(changed((m) => (m.generation.defaults[key] = value)), pattern, `${key} ${String(value)}`);
    }
  }
  refused(
    changed((m) => (m.generation.defaults.temperature = 0.005)),
    /temperature must be 0 \(greedy\) or a number from 0\.01 to 100, not 0\.005/,
    'the rule in words',
  );
  refused(changed((m) => (m.generation.demo_prompt = 7)), /demo_prompt must be text/, 'demo');
});

test('hostile values are quoted inertly in the message, cut short', () => {
  const name = `\u001b]0;x\u0007${'a'.repeat(500)}\n`;
  assert.throws(
    () => checkManifest(changed((m) => (m.graphs.kv = name)), WHERE),
    (e) => !e.message.includes('\n') && !e.message.includes('\u0007') && e.message.length < 300,
  );
});

test('the tokenizer must have exactly the model\u2019s vocabulary', () => {
  const model = good().model;
  checkTokenizer({ vocabSize: 27, eotId: 25, unkId: 26 }, model, WHERE);
  checkTokenizer({ vocabSize: 27, eotId: 0, unkId: null }, model, WHERE);
  const bad = [
    [{ vocabSize: 28, eotId: 25, unkId: 26 }, /the tokenizer has 28 tokens but model.vocab_size is 27/],
    [{ vocabSize: 26, eotId: 25, unkId: null }, /has 26 tokens/],
    [{ vocabSize: undefined, eotId: 25, unkId: null }, /has undefined tokens/],
    [{ vocabSize: 27, eotId: 27, unkId: 26 }, /<\|endoftext\|> id 27 is not in the vocabulary/],
    [{ vocabSize: 27, eotId: 25, unkId: -1 }, /<unk> id -1 is not in the vocabulary/],
  ];
  for (const [tokenizer, pattern] of bad) {
    assert.throws(() => checkTokenizer(tokenizer, model, WHERE), pattern);
  }
});

/** ONNX Runtime's session metadata for a KV graph like tiny-char-1's. */
function session({ vocab = 27, layers = 1, heads = 2, headDim = 16, names = true } = {}) {
  const past = [layers, 2, 'batch', heads, 'past', headDim];
  return {
    inputNames: names ? ['input_ids', 'past'] : ['input_ids'],
    outputNames: ['logits', 'present'],
    inputMetadata: [
      { name: 'input_ids', isTensor: true, type: 'int64', shape: ['batch', 'seq'] },
      { name: 'past', isTensor: true, type: 'float32', shape: past },
    ],
    outputMetadata: [
      { name: 'logits', isTensor: true, type: 'float32', shape: ['batch', vocab] },
      { name: 'present', isTensor: true, type: 'float32', shape: [...past.slice(0, 4), 'p', headDim] },
    ],
  };
}

test('graph shapes, where declared, must fit the manifest', () => {
  const model = good().model;
  checkGraph(session(), model, true, WHERE);
  checkGraph({ ...session(), inputMetadata: undefined, outputMetadata: undefined }, model, true, WHERE);
  const full = { inputNames: ['input_ids'], outputNames: ['logits'], outputMetadata: session().outputMetadata.slice(0, 1) };
  checkGraph(full, model, false, WHERE);
  const bad = [
    [session({ vocab: 300 }), /logits is declared \[batch, 300\], but the manifest's model needs \[batch, 27\]/],
    [session({ layers: 2 }), /past is declared \[2, 2, batch, 2, past, 16\].*needs \[1, 2, batch, 2, positions, 16\]/],
    [session({ heads: 4 }), /past is declared/],
    [session({ headDim: 8 }), /past is declared/],
    [session({ names: false }), /the graph has no input past/],
  ];
  for (const [graph, pattern] of bad) assert.throws(() => checkGraph(graph, model, true, WHERE), pattern);
});

test('a chat template is checked as the Python players check it', () => {
  const chat = {
    system: '<|system|>{content}<|end|>',
    user: '<|user|>{content}<|end|>',
    assistant: '<|assistant|>{content}<|end|>',
    generation_prefix: '<|assistant|>',
    stop: [],
  };
  checkManifest(changed((m) => (m.chat = chat)), WHERE);
  checkManifest(changed((m) => (m.chat = null)), WHERE);
  const cases = [
    [(m) => (m.chat = 'chat'), /bad chat template: expected a JSON object/],
    [(m) => (m.chat = { ...chat, user: '<|user|>' }), /'user' must contain \{content\} exactly once/],
    [(m) => (m.chat = { ...chat, '\u001b[2J': '' }), /unknown key "\\x1b\[2J"/],
    [(m) => (m.chat = { ...chat, stop: [''] }), /'stop' must be a list of at most 4 non-empty/],
  ];
  for (const [edit, pattern] of cases) refused(changed(edit), pattern, String(pattern));
});
