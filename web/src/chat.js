/**
 * Chat templates: how a chat release's messages become the token ids it was trained on,
 * by the same rules as the Python players (sup/play/chat.py, which documents the
 * template format; OnnxLM.chat_context in sup/play/runtime.py for the context). Both run
 * the shared cases in tests/vectors/chat.json, so the page sends a chat model exactly
 * the ids `sup chat` sends. No DOM and no ONNX Runtime here: the worker, the page and
 * the node tests share it.
 *
 * A template is {system, user, assistant, generation_prefix, stop}: each role's text
 * holds `{content}` once. `<|name|>` markers in it are special tokens of the model's
 * tokenizer: each becomes its one id, while a message's content is always encoded as
 * text (a marker someone types stays text). A template without markers is rendered to
 * one string and encoded whole, as such a model saw its corpus.
 */

import { quote } from './untrusted.js';

export const ROLES = ['system', 'user', 'assistant'];
const PLACEHOLDER = '{content}';
const MAX_STOP = 4;
const KEYS = [...ROLES, 'generation_prefix', 'stop'];
// A template's special-token markers: <|name|>, letters, digits and underscores.
const MARKER = /<\|[A-Za-z0-9_]+\|>/g;

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Throw an Error saying what is wrong unless `template` is a valid chat template
 * (Python's check_chat_template; the caller adds where it came from).
 * @param {unknown} template
 */
export function checkChatTemplate(template) {
  if (!isObject(template)) throw new Error('expected a JSON object');
  const unknown = Object.keys(template)
    .filter((key) => !KEYS.includes(key))
    .sort();
  if (unknown.length) {
    throw new Error(`unknown key ${quote(unknown[0])}; keys are ${KEYS.join(', ')}`);
  }
  for (const key of [...ROLES, 'generation_prefix']) {
    if (typeof template[key] !== 'string') throw new Error(`'${key}' must be a string`);
  }
  for (const role of ROLES) {
    if (template[role].split(PLACEHOLDER).length !== 2) {
      throw new Error(`'${role}' must contain ${PLACEHOLDER} exactly once`);
    }
  }
  const stop = template.stop ?? [];
  if (
    !Array.isArray(stop) ||
    stop.length > MAX_STOP ||
    !stop.every((s) => typeof s === 'string' && s.length > 0)
  ) {
    throw new Error(`'stop' must be a list of at most ${MAX_STOP} non-empty strings`);
  }
}

/**
 * The `<|name|>` markers of a template's role texts and generation prefix, in
 * first-use order: a chat model's tokenizer holds each as one special token. The page
 * shows its chat view for a template that has any.
 * @param {object} template a checked template
 * @returns {string[]}
 */
export function specialMarkers(template) {
  const found = new Set();
  for (const key of [...ROLES, 'generation_prefix']) {
    for (const [marker] of template[key].matchAll(MARKER)) found.add(marker);
  }
  return [...found];
}

/**
 * The prompt text for `messages` ({role, content}), then the generation prefix.
 * The content is inserted by a function, never as a replacement pattern, so `$&` and
 * the like in a message stay as typed (Python's str.replace).
 */
export function render(template, messages) {
  const turns = messages.map((m) => template[m.role].replace(PLACEHOLDER, () => m.content));
  return turns.join('') + template.generation_prefix;
}

/** Template text cut at its markers: [[piece, isMarker]], empty pieces left out. */
function templatePieces(text) {
  const pieces = [];
  let at = 0;
  for (const match of text.matchAll(MARKER)) {
    pieces.push([text.slice(at, match.index), false], [match[0], true]);
    at = match.index + match[0].length;
  }
  pieces.push([text.slice(at), false]);
  return pieces.filter(([piece]) => piece.length > 0);
}

/**
 * Template text as ids: a marker the tokenizer holds as a special token is that id;
 * everything else (a marker it lacks included) is encoded as text.
 * @param {Map<string, number>} specials
 */
function encodeTemplateText(tok, text, specials) {
  const ids = [];
  for (const [piece, marker] of templatePieces(text)) {
    if (marker && specials.has(piece)) ids.push(specials.get(piece));
    else ids.push(...tok.encode(piece).ids);
  }
  return ids;
}

/**
 * The prompt ids for `messages`: each message's template text and content encoded as
 * separate pieces, then the generation prefix (Python's encode_chat).
 * @param {{encode: (text: string) => {ids: number[]},
 *   specialTokens: () => Map<string, number>}} tok a tokenizer of tokenizers.js
 * @param {object} template a checked template
 * @param {{role: string, content: string}[]} messages
 * @returns {number[]}
 */
export function encodeChat(tok, template, messages) {
  if (!specialMarkers(template).length) return tok.encode(render(template, messages)).ids;
  const specials = tok.specialTokens();
  const ids = [];
  for (const { role, content } of messages) {
    const text = template[role];
    const at = text.indexOf(PLACEHOLDER);
    ids.push(...encodeTemplateText(tok, text.slice(0, at), specials));
    ids.push(...tok.encode(content).ids);
    ids.push(...encodeTemplateText(tok, text.slice(at + PLACEHOLDER.length), specials));
  }
  ids.push(...encodeTemplateText(tok, template.generation_prefix, specials));
  return ids;
}

/**
 * The prompt ids for the longest tail of `messages` that fits in `budget` tokens,
 * cropped at whole turns (Python's fit_turns): leading system messages stay, then the
 * oldest exchanges go, so what is left starts at a user message (or is the last message
 * alone). When even the last message does not fit, its ids come back whole.
 * @returns {{ids: number[], dropped: number}} dropped: how many messages were left out
 */
export function fitTurns(tok, template, messages, budget) {
  let system = 0;
  while (system < messages.length && messages[system].role === 'system') system += 1;
  const head = messages.slice(0, system);
  const rest = messages.slice(system);
  if (!rest.length) return { ids: encodeChat(tok, template, head), dropped: 0 };
  const cuts = rest.flatMap((m, i) => (i === 0 || m.role === 'user' ? [i] : []));
  if (cuts.at(-1) !== rest.length - 1) cuts.push(rest.length - 1);
  let ids;
  for (const dropped of cuts) {
    ids = encodeChat(tok, template, [...head, ...rest.slice(dropped)]);
    if (ids.length <= budget) return { ids, dropped };
  }
  return { ids, dropped: cuts.at(-1) };
}

/**
 * The context a chat reply is generated from (Python's OnnxLM.chat_context): the
 * prompt cropped at whole turns so that `room` tokens (at most half the block) stay for
 * the reply, after `promptPrefix`; a last message too long for that is cropped to the
 * block's last tokens.
 * @param {{blockSize: number, promptPrefix: number[], room: number}} rule
 * @returns {{ids: number[], dropped: number}}
 */
export function chatContext(tok, template, messages, { blockSize, promptPrefix, room }) {
  const budget = blockSize - promptPrefix.length - Math.min(room, Math.floor(blockSize / 2));
  const { ids, dropped } = fitTurns(tok, template, messages, Math.max(budget, 1));
  if (promptPrefix.length + ids.length <= blockSize) {
    return { ids: [...promptPrefix, ...ids], dropped };
  }
  return { ids: ids.slice(-blockSize), dropped };
}
