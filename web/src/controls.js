/**
 * Instrument controls: a release's prompt contract (manifest `controls`), the same
 * rules as the Python players (sup/formats/controls.py, which documents the format).
 * Both run the shared cases in tests/vectors/controls.json, so a slider on the page
 * builds exactly the prompt `sup NAME --level 5 TOPIC` builds. No DOM here: app.js
 * makes the inputs, the node tests call these functions.
 */

import { quote } from './untrusted.js';

const NAME = /^[a-z][a-z0-9_]{0,31}$/;
const PLACEHOLDER = /\{([a-z][a-z0-9_]{0,31})(\.label)?\}/g;
const MAX_FIELDS = 8;
const MAX_TEMPLATE = 4096;
const MAX_TEXT = 1000;
const MAX_LABEL = 40;
const MAX_HELP = 300;
const MAX_RANGE = 1000;
const RESERVED = new Set([
  'temperature', 'top_k', 'top_p', 'seed', 'max_new_tokens', 'threads', 'registry',
  'help', 'prompt', 'model', 'stream', 'stop', 'max_tokens', 'n', 'user',
]);
// Python's unicodedata categories C* (controls, format/bidi, private, unassigned), Zl, Zp.
const NOT_ONE_LINE = /[\p{C}\p{Zl}\p{Zp}]/u;

/** A value the controls refuse; `name` is the field's (as Python's ControlError). */
export class ControlError extends Error {
  constructor(name, message) {
    super(message);
    this.name = 'ControlError';
    this.field = name;
  }
}

const isInt = (v) => Number.isSafeInteger(v);
const chars = (text) => [...text].length; // code points, as Python's len
const oneLine = (text) => !NOT_ONE_LINE.test(text);
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The terminal player's flag for a field, used in messages as Python does. */
export const flag = (name) => `--${name.replaceAll('_', '-')}`;

/**
 * Throw "WHERE (controls): what is wrong" unless `controls` follows the rules.
 * @param {unknown} controls
 * @param {string} where
 */
export function checkControls(controls, where) {
  const bad = (what) => new Error(`${where} (controls): ${what}; refusing the bundle`);
  if (!isObject(controls) || Object.keys(controls).some((k) => k !== 'template' && k !== 'fields')) {
    throw bad("must be an object with only 'template' and 'fields'");
  }
  const { template, fields } = controls;
  if (typeof template !== 'string' || !template.length || chars(template) > MAX_TEMPLATE) {
    throw bad(`'template' must be text of 1 to ${MAX_TEMPLATE} characters`);
  }
  if (!Array.isArray(fields) || fields.length < 1 || fields.length > MAX_FIELDS) {
    throw bad(`'fields' must be a list of 1 to ${MAX_FIELDS} fields`);
  }
  const names = new Set();
  let prompts = 0;
  for (const f of fields) {
    const name = isObject(f) ? f.name : undefined;
    if (typeof name !== 'string' || !NAME.test(name) || names.has(name)) {
      throw bad(`field name ${quote(name)} is not a distinct lowercase identifier`);
    }
    if (RESERVED.has(name)) throw bad(`field name ${quote(name)} would shadow a player's option`);
    names.add(name);
    const problem = fieldProblem(f);
    if (problem) throw bad(`field ${quote(name)}: ${problem}`);
    if (f.prompt) prompts += 1;
  }
  if (prompts > 1) throw bad('at most one field may take the prompt');
  const used = new Set();
  for (const [whole, name, label] of template.matchAll(PLACEHOLDER)) {
    if (!names.has(name)) throw bad(`the template names ${whole}, which is not a field`);
    if (label && !fields.find((f) => f.name === name).labels) {
      throw bad(`the template uses ${whole} but that field has no labels`);
    }
    used.add(name);
  }
  if (/[{}]/.test(template.replace(PLACEHOLDER, ''))) {
    throw bad('the template has a brace that is not a {field} or {field.label}');
  }
  const unused = [...names].filter((n) => !used.has(n));
  if (unused.length) throw bad(`field(s) ${unused.sort().join(', ')} never appear in the template`);
}

function fieldProblem(f) {
  const common = ['name', 'type', 'default', 'help'];
  const extra = (allowed) => Object.keys(f).some((k) => !common.includes(k) && !allowed.includes(k));
  if (f.type !== 'integer' && f.type !== 'text') return "'type' must be one of integer, text";
  const help = f.help ?? '';
  if (typeof help !== 'string' || chars(help) > MAX_HELP) {
    return `'help' must be text of at most ${MAX_HELP} characters`;
  }
  if (f.type === 'integer') {
    if (extra(['minimum', 'maximum', 'labels'])) {
      return 'an integer field has only minimum, maximum, default, labels and help';
    }
    const { minimum: lo, maximum: hi, default: value, labels } = f;
    if (!(isInt(lo) && isInt(hi) && isInt(value) && lo <= value && value <= hi)) {
      return 'needs integers with minimum <= default <= maximum';
    }
    if (hi - lo > MAX_RANGE) return `spans more than ${MAX_RANGE} values`;
    const labelOk = (x) => typeof x === 'string' && x.length > 0 && chars(x) <= MAX_LABEL && oneLine(x);
    if (
      labels !== undefined &&
      labels !== null &&
      (!Array.isArray(labels) || labels.length !== hi - lo + 1 || !labels.every(labelOk))
    ) {
      return `'labels' must name each value from ${lo} to ${hi} in one line of text`;
    }
    return null;
  }
  if (extra(['max_chars', 'prompt'])) return 'a text field has only default, max_chars, prompt and help';
  const { max_chars: limit, default: value } = f;
  if (!isInt(limit) || limit < 1 || limit > MAX_TEXT) {
    return `'max_chars' must be an integer from 1 to ${MAX_TEXT}`;
  }
  if (typeof value !== 'string' || chars(value) > limit || !oneLine(value)) {
    return "'default' must be one line of text within max_chars";
  }
  if (f.prompt !== undefined && typeof f.prompt !== 'boolean') return "'prompt' must be true or false";
  return null;
}

/** The field the player's prompt fills, if any. */
export function promptField(controls) {
  return controls.fields.find((f) => f.prompt)?.name ?? null;
}

/**
 * Every field's value (`given` over the defaults; strings from inputs are parsed) and
 * the text appended after the template (the prompt, when no field takes it).
 * @returns {{values: object, rest: string}}
 */
export function resolveValues(controls, given, prompt = '', spell = flag) {
  const fields = new Map(controls.fields.map((f) => [f.name, f]));
  for (const name of Object.keys(given)) {
    if (!fields.has(name)) {
      const all = [...fields.keys()].map(spell).join(', ');
      throw new ControlError(name, `this model has no control ${spell(name)}: its controls are ${all}`);
    }
  }
  let rest = prompt;
  const taker = promptField(controls);
  if (taker && prompt && !(taker in given)) {
    given = { ...given, [taker]: prompt };
    rest = '';
  }
  const values = {};
  for (const [name, f] of fields) values[name] = name in given ? parseValue(f, given[name], spell) : f.default;
  return { values, rest };
}

function parseValue(f, value, spell) {
  const shown = spell(f.name);
  if (f.type === 'integer') {
    let number = value;
    if (typeof value === 'string') number = /^\s*[-+]?\d+\s*$/.test(value) ? Number(value) : null;
    if (!isInt(number) || typeof number !== 'number' || number < f.minimum || number > f.maximum) {
      const got = typeof value === 'string' ? value.slice(0, 40) : String(value);
      throw new ControlError(f.name, `${shown} must be an integer from ${f.minimum} to ${f.maximum}, got ${got}`);
    }
    return number;
  }
  if (typeof value !== 'string') throw new ControlError(f.name, `${shown} must be text`);
  if (chars(value) > f.max_chars) {
    throw new ControlError(
      f.name,
      `${shown} is ${chars(value)} characters; this model takes at most ${f.max_chars}`,
    );
  }
  if (!oneLine(value)) throw new ControlError(f.name, `${shown} must be one line of printable text`);
  return value;
}

/** The template with each placeholder replaced, then `rest`. */
export function renderPrompt(controls, values, rest = '') {
  const fields = new Map(controls.fields.map((f) => [f.name, f]));
  const fill = (_, name, label) => {
    const f = fields.get(name);
    return label ? f.labels[values[name] - f.minimum] : String(values[name]);
  };
  return controls.template.replace(PLACEHOLDER, fill) + rest;
}

/**
 * What the page feeds the model: Python's build_prompt. A prompt the context cannot
 * hold with room to generate is refused, never cropped (that would cut the controls).
 * @param {(text: string) => number} countTokens
 */
export function buildPrompt(controls, given, prompt, countTokens, block) {
  const { values, rest } = resolveValues(controls, given, prompt);
  const text = renderPrompt(controls, values, rest);
  const n = countTokens(text);
  if (n >= block) {
    const taker = promptField(controls);
    const shorten = taker ? `shorten ${flag(taker)} (the prompt)` : 'shorten the prompt';
    throw new ControlError(
      taker ?? 'prompt',
      `the prompt built from the controls is ${n} tokens and the model's context is ${block}: ${shorten}`,
    );
  }
  return text;
}
