/**
 * The module worker that owns the player, so loading and inference never block the
 * page. Messages in:
 *
 *   {type: 'load', url, manifestSha256}
 *   {type: 'unload'}                                  drop the player (and any load under way)
 *   {type: 'generate', prompt, controls, maxNewTokens, temperature, topK, topP, seed, useCache}
 *                      controls: {name: value} for a release with instrument controls
 *   {type: 'chat', messages, maxNewTokens, temperature, topK, topP, seed, useCache}
 *                      a chat release's next reply to messages ({role, content}); the
 *                      page picks the seed (its seed + the reply's index)
 *   {type: 'stop'}
 *
 * Messages out:
 *
 *   {type: 'loaded', manifest}
 *   {type: 'started', prompt, unknown, cropped, contextTokens}   prompt: the text the model reads
 *   {type: 'replying', dropped, contextTokens, cachedTokens}   a chat reply begins: dropped
 *                      messages were left out to fit; cachedTokens of the context were
 *                      already in the KV cache from the turns before
 *   {type: 'piece', text, tokens, tokensPerSecond}   one per generated token
 *   {type: 'done', tokens, tokensPerSecond, reason}  reason: 'stop-token' | 'length' | 'stopped'
 *   {type: 'error', message}
 *
 * A chat keeps the KV graph's cache from one reply to the next (player.js KvCache): the
 * next reply's context begins with the ids already fed, so only the new turns are fed.
 * A context that does not (the conversation was cropped or started over) is fed whole.
 */

import { buildPrompt } from './controls.js';
import { KvCache, Player } from './player.js';
import { Utf8Stream } from './sampling.js';

let player = null;
let chatCache = new KvCache(); // the loaded chat release's cache, kept across replies
// Each load and each generation gets a number. Only the latest load may install its
// player or report; 'stop', a newer 'generate' or a 'load' moves `current` on, and a
// generation whose number is no longer current ends at its next token.
let loads = 0;
let current = 0;

const handlers = {
  async load({ url, manifestSha256 }) {
    const ticket = ++loads;
    current += 1;
    player = null;
    chatCache = new KvCache();
    try {
      const loaded = await Player.load(url, { manifestSha256 });
      if (ticket !== loads) return;
      player = loaded;
      chatCache = new KvCache();
      self.postMessage({ type: 'loaded', manifest: player.manifest });
    } catch (e) {
      if (ticket === loads) throw e;
    }
  },

  async generate({ prompt, controls, ...options }) {
    const model = player; // a 'load' during generation must not swap it mid-stream
    if (!model) throw new Error('no model is loaded');
    const run = ++current;
    if (model.manifest.controls) {
      const count = (text) => model.tokenizer.encode(text).ids.length;
      prompt = buildPrompt(model.manifest.controls, controls ?? {}, prompt, count, model.blockSize);
    }
    const { ids, unknown, cropped } = model.context(prompt);
    self.postMessage({ type: 'started', prompt, unknown, cropped, contextTokens: ids.length });
    await stream(model, run, ids, options);
  },

  async chat({ messages, ...options }) {
    const model = player;
    if (!model) throw new Error('no model is loaded');
    const run = ++current;
    const { ids, dropped } = model.chatContext(messages, options.maxNewTokens);
    const kept = chatCache;
    const cachedTokens = options.useCache === false ? 0 : kept.reusable(ids);
    self.postMessage({ type: 'replying', dropped, contextTokens: ids.length, cachedTokens });
    await stream(model, run, ids, { ...options, kept });
  },

  unload() {
    loads += 1;
    current += 1;
    player = null;
    chatCache = new KvCache();
  },

  stop() {
    current += 1;
  },
};

/**
 * Generate from `ids` and post each token's text, then 'done'. Stop tokens end the
 * text and show nothing (a special token has no bytes); a generation whose number
 * `run` is no longer current ends at its next token.
 */
async function stream(model, run, ids, options) {
  const { stop_ids: stopIds } = model.manifest.generation;
  const text = new Utf8Stream();
  const start = performance.now();
  const rate = (tokens) => tokens / ((performance.now() - start) / 1000);
  let tokens = 0;
  let reason = 'length';
  for await (const id of model.generate(ids, options)) {
    tokens += 1;
    const piece = text.push(model.tokenizer.tokenBytes(id));
    self.postMessage({ type: 'piece', text: piece, tokens, tokensPerSecond: rate(tokens) });
    if (stopIds.includes(id)) reason = 'stop-token';
    await nextTask(); // let a 'stop' message in between tokens
    if (run !== current) {
      reason = 'stopped';
      break;
    }
  }
  const tail = text.flush();
  if (tail) {
    self.postMessage({ type: 'piece', text: tail, tokens, tokensPerSecond: rate(tokens) });
  }
  self.postMessage({ type: 'done', tokens, tokensPerSecond: rate(tokens), reason });
}

/**
 * Resolve on a fresh task, so messages queued meanwhile run first. A message to
 * ourselves avoids the 4 ms clamp that nested setTimeout calls get.
 */
const ticks = new MessageChannel();
const waiting = [];
ticks.port1.onmessage = () => waiting.shift()();

function nextTask() {
  return new Promise((resolve) => {
    waiting.push(resolve);
    ticks.port2.postMessage(null);
  });
}

self.onmessage = async ({ data }) => {
  try {
    await handlers[data.type](data);
  } catch (e) {
    self.postMessage({ type: 'error', message: e.message ?? String(e) });
  }
};
