/**
 * A sup bundle, ready to generate: its manifest, its tokenizer and an ONNX Runtime
 * session for the KV graph (the full-context graph's on first no-cache use). Generation
 * follows the rule every sup player shares (sup/runtime.py is the Python twin), so
 * greedy output equals the Python player's token for token.
 */

import * as ort from '../vendor/ort.wasm.bundle.min.mjs';

import { Bundle } from './bundle.js';
import { pickToken, Rng } from './sampling.js';
import { tokenizerFromJson } from './tokenizers.js';

// One wasm thread: no SharedArrayBuffer, so no cross-origin isolation headers and any
// static host works; the tiny models sup trains gain little from more threads anyway.
ort.env.wasm.numThreads = 1;

export class Player {
  /**
   * Fetch, verify and open the bundle at `url` (a directory URL ending in '/'). The
   * full-context graph is fetched and opened only if a no-cache generation asks for it.
   * @param {{manifestSha256?: string|null}} options the registry's sha256 of the manifest
   */
  static async load(url, options = {}) {
    const bundle = await Bundle.open(url, options);
    const { graphs, tokenizer } = bundle.manifest;
    const [tokenizerBytes, kvSession] = await Promise.all([
      bundle.file(tokenizer.file),
      bundle.file(graphs.kv).then(openSession),
    ]);
    const tokenizerJson = JSON.parse(new TextDecoder().decode(tokenizerBytes));
    return new Player(bundle, tokenizerFromJson(tokenizerJson), kvSession);
  }

  constructor(bundle, tokenizer, kvSession) {
    this.bundle = bundle;
    this.manifest = bundle.manifest;
    this.tokenizer = tokenizer;
    this.kvSession = kvSession;
    this.fullSession = null;
    this.blockSize = this.manifest.model.block_size;
  }

  /**
   * The tokens generation starts from: the prompt after `prompt_prefix`, or its last
   * block_size tokens when it fills the context; `unprompted_start` without a prompt.
   * @returns {{ids: number[], unknown: number, cropped: boolean}} unknown counts prompt
   *   characters the tokenizer read as <unk>
   */
  context(prompt) {
    const rule = this.manifest.generation;
    if (!prompt) return { ids: [...rule.unprompted_start], unknown: 0, cropped: false };
    const { ids, unknown } = this.tokenizer.encode(prompt);
    if (!ids.length) return { ids: [...rule.unprompted_start], unknown, cropped: false };
    if (ids.length < this.blockSize) {
      return { ids: [...rule.prompt_prefix, ...ids], unknown, cropped: false };
    }
    return { ids: ids.slice(-this.blockSize), unknown, cropped: ids.length > this.blockSize };
  }

  /**
   * Yield new token ids one at a time, ending after a stop token or `maxNewTokens`.
   *
   * With the cache (the KV graph) each token costs one single-token step; when the
   * cache holds block_size positions it restarts from the last `cache_restart_keep`
   * tokens. Without it, every token re-runs the full graph on the last block_size
   * tokens (the reference loop the benchmark compares against).
   *
   * @param {number[]} context from `context()`
   * @param {{maxNewTokens: number, temperature: number, topK: number|null,
   *   topP: number|null, seed: number, useCache?: boolean}} options
   */
  async *generate(context, { maxNewTokens, temperature, topK, topP, seed, useCache = true }) {
    checkOptions({ maxNewTokens, temperature, topK, topP });
    const rule = this.manifest.generation;
    const rng = new Rng(seed);
    const history = context.slice(-this.blockSize);
    if (!history.length) throw new Error('generation needs at least one context token');
    let { logits, present } = useCache ? await this.step(history, null) : await this.full(history);
    for (let n = 1; ; n++) {
      const token = pickToken(logits, { temperature, topK, topP }, rng, rule.banned_ids);
      yield token;
      if (rule.stop_ids.includes(token) || n === maxNewTokens) return;
      history.push(token);
      if (!useCache) {
        ({ logits } = await this.full(history.slice(-this.blockSize)));
      } else if (present.dims[4] >= this.blockSize) {
        ({ logits, present } = await this.step(history.slice(-rule.cache_restart_keep), null));
      } else {
        ({ logits, present } = await this.step([token], present));
      }
    }
  }

  /** KV graph: `ids` at the positions after `past` (null: an empty cache). */
  async step(ids, past) {
    const feeds = { input_ids: idsTensor(ids), past: past ?? this.emptyPast() };
    const out = await this.kvSession.run(feeds);
    return { logits: out.logits.data, present: out.present };
  }

  /** Full graph: the logits after `ids`, computed from scratch. */
  async full(ids) {
    this.fullSession ??= this.bundle.file(this.manifest.graphs.full).then(openSession);
    const out = await (await this.fullSession).run({ input_ids: idsTensor(ids) });
    return { logits: out.logits.data };
  }

  emptyPast() {
    const { n_layer: layers, n_head: heads, head_dim: headDim } = this.manifest.model;
    return new ort.Tensor('float32', new Float32Array(0), [layers, 2, 1, heads, 0, headDim]);
  }
}

function openSession(bytes) {
  return ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
}

function idsTensor(ids) {
  return new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
}

/** The sampling flags' ranges, as the Python players check them. */
function checkOptions({ maxNewTokens, temperature, topK, topP }) {
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
    throw new Error(`length must be a whole number, at least 1 (got ${maxNewTokens})`);
  }
  if (!(temperature >= 0)) {
    throw new Error(`temperature must be >= 0 (0 = greedy), got ${temperature}`);
  }
  if (topK != null && !(Number.isInteger(topK) && topK >= 1)) {
    throw new Error(`top-k must be a whole number, at least 1 (got ${topK})`);
  }
  if (topP != null && !(topP > 0 && topP <= 1)) {
    throw new Error(`top-p must be in (0, 1], got ${topP}`);
  }
}
