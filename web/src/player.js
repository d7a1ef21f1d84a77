/**
 * A sup bundle, ready to generate: its manifest, its tokenizer and an ONNX Runtime
 * session for the KV graph (the full-context graph's on first no-cache use). Generation
 * follows the rule every sup player shares (sup/runtime.py is the Python twin), so
 * greedy output equals the Python player's token for token.
 *
 * Loading refuses a bundle whose manifest does not fit its files (manifest.js): bad
 * names, token ids outside the vocabulary, a tokenizer of another size, graphs whose
 * shapes differ from the manifest's model, or a block_size the graph cannot reach
 * (probed by running one step at the last position). Each is one line naming the
 * field, said before generation starts rather than as an error inside ONNX Runtime.
 */

import * as ort from '../vendor/ort.wasm.bundle.min.mjs';

import { Bundle } from './bundle.js';
import { chatContext } from './chat.js';
import { checkDims, checkGraph, checkManifest, checkTokenizer } from './manifest.js';
import { checkSampling, pickToken, Rng } from './sampling.js';
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
    const { manifest } = bundle;
    checkManifest(manifest, `${bundle.url}manifest.json`); // before any other file is fetched
    const { graphs, tokenizer, model } = manifest;
    const [tokenizerBytes, kvSession] = await Promise.all([
      bundle.file(tokenizer.file),
      bundle.file(graphs.kv).then((bytes) => openSession(bytes, `${bundle.url}${graphs.kv}`)),
    ]);
    try {
      const player = new Player(bundle, readTokenizer(tokenizerBytes, bundle), kvSession);
      checkTokenizer(player.tokenizer, model, `${bundle.url}${tokenizer.file}`);
      checkGraph(kvSession, model, true, `${bundle.url}${graphs.kv}`);
      await player.probe();
      return player;
    } catch (e) {
      await kvSession.release().catch(() => {}); // a refused bundle keeps no wasm memory
      throw e;
    }
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
   * The context of a chat reply (Python's OnnxLM.chat_context, src/chat.js): the
   * conversation through the manifest's chat template, cropped at whole turns so that
   * `room` tokens stay for the reply, after `prompt_prefix`.
   * @param {{role: string, content: string}[]} messages
   * @returns {{ids: number[], dropped: number}} dropped: messages left out to fit
   */
  chatContext(messages, room) {
    const { chat, generation } = this.manifest;
    if (!chat) throw new Error('this release is not a chat model (no chat template)');
    const rule = { blockSize: this.blockSize, promptPrefix: generation.prompt_prefix, room };
    return chatContext(this.tokenizer, chat, messages, rule);
  }

  /**
   * Yield new token ids one at a time, ending after a stop token or `maxNewTokens`.
   *
   * With the cache (the KV graph) each token costs one single-token step; when the
   * cache holds block_size positions it restarts from the last `cache_restart_keep`
   * tokens. Without it, every token re-runs the full graph on the last block_size
   * tokens (the reference loop the benchmark compares against).
   *
   * `kept` (a KvCache) carries the cache from one generation to the next, as a chat
   * does from turn to turn: when the ids it holds begin the context, only the rest of
   * the context is fed, after them; otherwise the context is fed from an empty cache.
   * Either way the graph holds the same positions for the same ids, so the tokens are
   * those a generation from scratch picks (up to float rounding in the logits).
   *
   * @param {number[]} context from `context()` or `chatContext()`
   * @param {{maxNewTokens: number, temperature: number, topK: number|null,
   *   topP: number|null, seed: number, useCache?: boolean, kept?: KvCache}} options
   */
  async *generate(
    context,
    { maxNewTokens, temperature, topK, topP, seed, useCache = true, kept = new KvCache() },
  ) {
    checkSampling({ maxNewTokens, temperature, topK, topP });
    const rule = this.manifest.generation;
    const rng = new Rng(seed);
    const history = context.slice(-this.blockSize);
    if (!history.length) throw new Error('generation needs at least one context token');
    let logits;
    let present = null;
    let fed = []; // the ids whose keys and values `present` holds, in order
    if (useCache) {
      const reused = kept.reusable(history);
      ({ logits, present } = await this.step(history.slice(reused), reused ? kept.present : null));
      fed = history.slice();
      kept.hold(fed, present, reused);
    } else {
      ({ logits } = await this.full(history));
    }
    for (let n = 1; ; n++) {
      const token = pickToken(logits, { temperature, topK, topP }, rng, rule.banned_ids);
      yield token;
      if (rule.stop_ids.includes(token) || n === maxNewTokens) return;
      history.push(token);
      if (!useCache) {
        ({ logits } = await this.full(history.slice(-this.blockSize)));
        continue;
      }
      if (present.dims[4] >= this.blockSize) {
        fed = history.slice(-rule.cache_restart_keep);
        ({ logits, present } = await this.step(fed, null));
      } else {
        ({ logits, present } = await this.step([token], present));
        fed.push(token);
      }
      kept.hold(fed, present);
    }
  }

  /**
   * Run the KV graph once at the last position of the context: one token after a zero
   * past of block_size - 1 positions. A graph whose position tables are shorter than
   * the manifest's block_size fails here, at load, instead of mid-generation; the
   * outputs' dims are checked against the manifest too. (The zero past's size is
   * bounded by manifest.js MAX_CACHE_BYTES.)
   */
  async probe() {
    const { n_layer: layers, n_head: heads, head_dim: headDim, block_size: block } =
      this.manifest.model;
    const where = `${this.bundle.url}${this.manifest.graphs.kv}`;
    const shape = [layers, 2, 1, heads, block - 1, headDim];
    const past = new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b)), shape);
    let out;
    try {
      out = await this.kvSession.run({ input_ids: idsTensor([0]), past });
    } catch {
      // Position 0 tells the two causes apart: if that fails too, the block size is not
      // the problem (a graph that ONNX Runtime reports no shapes for can get here).
      const atStart = await this.step([0], null).then(() => true, () => false);
      const why = atStart
        ? `the manifest's block_size ${block} is larger than the graph supports ` +
          `(a step at position ${block - 1} fails)`
        : "the graph does not run one step with the manifest's model shape";
      throw new Error(`${where}: ${why}; refusing the bundle`);
    }
    checkDims(out.logits.dims, [1, this.manifest.model.vocab_size], 'logits', where);
    checkDims(out.present.dims, [layers, 2, 1, heads, block, headDim], 'present', where);
  }

  /** KV graph: `ids` at the positions after `past` (null: an empty cache). */
  async step(ids, past) {
    const feeds = { input_ids: idsTensor(ids), past: past ?? this.emptyPast() };
    const out = await this.kvSession.run(feeds);
    return { logits: out.logits.data, present: out.present };
  }

  /** Full graph: the logits after `ids`, computed from scratch. */
  async full(ids) {
    this.fullSession ??= this.openFull();
    const out = await (await this.fullSession).run({ input_ids: idsTensor(ids) });
    return { logits: out.logits.data };
  }

  /** The full-context graph, fetched, verified and checked against the manifest. */
  async openFull() {
    const name = this.manifest.graphs.full;
    const session = await openSession(await this.bundle.file(name), `${this.bundle.url}${name}`);
    checkGraph(session, this.manifest.model, false, `${this.bundle.url}${name}`);
    return session;
  }

  emptyPast() {
    const { n_layer: layers, n_head: heads, head_dim: headDim } = this.manifest.model;
    return new ort.Tensor('float32', new Float32Array(0), [layers, 2, 1, heads, 0, headDim]);
  }
}

/**
 * The KV graph's cache between generations: `present` holds the keys and values of
 * `ids`, fed from an empty cache in order (so position i holds ids[i]). `reused` says
 * how many of the last generation's context tokens came from the cache.
 */
export class KvCache {
  constructor() {
    this.ids = [];
    this.present = null;
    this.reused = 0;
  }

  /**
   * How many leading tokens of `context` the cache already holds: all its ids when
   * they begin `context` and leave at least one token to feed (the logits come from
   * the last fed token), else 0.
   * @param {number[]} context
   */
  reusable(context) {
    const { ids } = this;
    if (!this.present || !ids.length || ids.length >= context.length) return 0;
    return ids.every((id, i) => id === context[i]) ? ids.length : 0;
  }

  /** Keep `present` as the cache of `ids` (copied); a generation's first step sets `reused`. */
  hold(ids, present, reused = this.reused) {
    this.ids = ids.slice();
    this.present = present;
    this.reused = reused;
  }
}

/** tokenizer.json's bytes as a tokenizer; bad JSON is refused by name, not as a SyntaxError. */
function readTokenizer(bytes, bundle) {
  const where = `${bundle.url}${bundle.manifest.tokenizer.file}`;
  let json;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(`${where} is not valid JSON; refusing the bundle`);
  }
  try {
    return tokenizerFromJson(json);
  } catch (e) {
    throw new Error(`${where}: ${e.message}; refusing the bundle`);
  }
}

/** An ONNX Runtime session for a verified graph; one that will not open is refused by name. */
async function openSession(bytes, where) {
  try {
    return await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  } catch (e) {
    // ONNX Runtime's own words, cut to one line: it may also be the runtime that failed
    const why = String(e?.message ?? e).split('\n')[0].slice(0, 160);
    throw new Error(`${where} is not a graph ONNX Runtime can open (${why}); refusing the bundle`);
  }
}

function idsTensor(ids) {
  return new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
}
