/**
 * The checks a bundle's manifest, tokenizer and graphs must pass before the player
 * uses them. A manifest comes from wherever a registry points, so it is untrusted: a
 * value absurd for the graph or the vocabulary is refused here, with one line naming
 * the field, instead of crashing deep inside ONNX Runtime (an out-of-range token id, a
 * past of the wrong shape) or reaching outside the bundle (a graph named
 * "../other/model.onnx"). The manifest rules are the Python player's
 * (sup/formats/manifest.py): keep the two in step. The cache limit, the tokenizer's ids
 * and the graph shapes are the browser's own checks of what it is about to run.
 *
 * Every function throws an Error "WHERE: what is wrong; refusing the bundle" and
 * returns nothing. Pure functions: no DOM, no network, no ONNX Runtime.
 */

import { checkChatTemplate } from './chat.js';
import { checkControls } from './controls.js';
import { temperatureOk, TEMPERATURE_RULE } from './sampling.js';
import { quote } from './untrusted.js';

export const MANIFEST = 'manifest.json';
export const GRAPH_FULL = 'model.onnx';
export const GRAPH_KV = 'model.kv.onnx';
export const TOKENIZER = 'tokenizer.json';

// sup/formats/schema.py FILE_NAME, MAX_FILE_NAME_LENGTH and SHA256: a file in a bundle
// is a plain name, never a path or a URL (no "/", ":", "\", no leading "." so no "..").
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const MAX_FILE_NAME_LENGTH = 200;
const SHA256 = /^[0-9a-f]{64}$/;

// The zero past the block-size probe feeds, and the cache a generation grows to, both
// hold n_layer × 2 × n_head × block_size × head_dim float32 values. Beyond this the tab
// would run out of memory (wasm has 4 GiB in all) rather than say why; the configs sup
// ships (4 layers of 128, a 64-token context) need 256 KB.
export const MAX_CACHE_BYTES = 256 * 2 ** 20;

// sup/formats/manifest.py MAX_BLOCK_SIZE and MAX_NEW_TOKENS: far beyond any model
// here, they bound the arrays a player makes. sup/formats/schema.py BUNDLE_ID too.
export const MAX_BLOCK_SIZE = 2 ** 20;
export const MAX_NEW_TOKENS = 2 ** 20;
const BUNDLE_ID = /^[a-z0-9][a-z0-9_.]*(-[a-z0-9_.]+)*$/;

const MODEL_DIMS = ['n_layer', 'n_head', 'head_dim', 'vocab_size'];

function refuse(where, what) {
  return new Error(`${where}: ${what}; refusing the bundle`);
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isPositiveInt(value) {
  return Number.isSafeInteger(value) && value >= 1;
}

/**
 * The manifest's file list (Python's check_files): plain, distinct names other than
 * manifest.json, each with a sha256 and a size. Only these files are ever fetched.
 * @param {object} manifest
 * @param {string} where the manifest's URL, for messages
 */
export function checkFiles(manifest, where) {
  const { files } = manifest;
  if (!Array.isArray(files) || !files.length) throw refuse(where, 'the manifest lists no files');
  const names = new Set();
  for (const file of files) {
    const name = isObject(file) ? file.name : undefined;
    if (
      typeof name !== 'string' ||
      !FILE_NAME.test(name) ||
      name.length > MAX_FILE_NAME_LENGTH ||
      name === MANIFEST ||
      names.has(name)
    ) {
      const why = `bad file name ${quote(name)} in the manifest (a bundle file is a plain name)`;
      throw refuse(where, why);
    }
    if (typeof file.sha256 !== 'string' || !SHA256.test(file.sha256)) {
      throw refuse(where, `file ${name} has no valid sha256 in the manifest`);
    }
    if (!Number.isSafeInteger(file.size) || file.size < 0) {
      throw refuse(where, `file ${name} has no valid size in the manifest`);
    }
    names.add(name);
  }
}

/**
 * Everything the player reads from the manifest: the graph and tokenizer names, the
 * model's shape and vocabulary, the generation rule, the defaults the page shows, the
 * bundle's id, and a release's instrument controls and chat template.
 * @param {object} manifest one that passed `checkFiles`
 * @param {string} where the manifest's URL, for messages
 */
export function checkManifest(manifest, where) {
  checkNames(manifest, where);
  const model = checkModel(manifest.model, where);
  if (manifest.tokenizer.vocab_size !== model.vocab_size) {
    const size = quote(manifest.tokenizer.vocab_size);
    throw refuse(where, `tokenizer.vocab_size is ${size}, not the model's ${model.vocab_size}`);
  }
  checkGeneration(manifest.generation, model, where);
  if (typeof manifest.id !== 'string' || !BUNDLE_ID.test(manifest.id)) {
    throw refuse(where, `the bundle's id ${quote(manifest.id)} is not a valid id`);
  }
  if (manifest.controls !== undefined && manifest.controls !== null) {
    checkControls(manifest.controls, where);
  }
  if (manifest.chat !== undefined && manifest.chat !== null) {
    try {
      checkChatTemplate(manifest.chat);
    } catch (e) {
      throw refuse(where, `bad chat template: ${e.message}`);
    }
  }
}

/**
 * The graphs and the tokenizer have fixed names, and each is listed in `files` (so it
 * has a sha256): a manifest cannot point the player at any other file.
 */
function checkNames({ graphs, tokenizer, files }, where) {
  const listed = new Set(files.map((f) => f.name));
  const fields = [
    ['graphs.full', graphs?.full, GRAPH_FULL],
    ['graphs.kv', graphs?.kv, GRAPH_KV],
    ['tokenizer.file', tokenizer?.file, TOKENIZER],
  ];
  for (const [field, name, expected] of fields) {
    if (name !== expected) {
      throw refuse(where, `${field} is ${quote(name)}, but it must be ${quote(expected)}`);
    }
    if (!listed.has(name)) throw refuse(where, `${field} ${quote(name)} is not listed in files`);
  }
}

/** The model's dimensions are positive integers and its full cache fits the tab. */
function checkModel(model, where) {
  if (!isObject(model)) throw refuse(where, 'the manifest has no model object');
  for (const key of MODEL_DIMS) {
    if (!isPositiveInt(model[key])) {
      const why = `model.${key} must be a whole number, at least 1, not ${quote(model[key])}`;
      throw refuse(where, why);
    }
  }
  if (!(isPositiveInt(model.block_size) && model.block_size <= MAX_BLOCK_SIZE)) {
    const why = `model.block_size must be a whole number from 1 to ${MAX_BLOCK_SIZE}`;
    throw refuse(where, `${why}, not ${quote(model.block_size)}`);
  }
  const { n_layer: layers, n_head: heads, head_dim: headDim, block_size: block } = model;
  const cacheBytes = layers * 2 * heads * block * headDim * 4;
  if (cacheBytes > MAX_CACHE_BYTES) {
    const mb = (bytes) => `${Math.round(bytes / 2 ** 20)} MB`;
    throw refuse(
      where,
      `its KV cache at full context is ${mb(cacheBytes)}, more than the ${mb(MAX_CACHE_BYTES)} ` +
        'the browser player holds',
    );
  }
  return model;
}

/**
 * Token ids are ids of this vocabulary, in lists of a length the context (or the
 * vocabulary) allows: fewer banned ids than tokens, so one is always left to pick.
 * Defaults are valid.
 */
function checkGeneration(generation, model, where) {
  if (!isObject(generation)) throw refuse(where, 'the manifest has no generation object');
  const { vocab_size: vocab, block_size: block } = model;
  const lists = [
    // [field, fewest, most, the limit in words]
    ['prompt_prefix', 0, block - 1, `fewer than model.block_size ${block}`],
    ['unprompted_start', 1, block, `from 1 to model.block_size ${block}`],
    ['stop_ids', 0, vocab, `at most model.vocab_size ${vocab}`],
    ['banned_ids', 0, vocab - 1, `fewer than model.vocab_size ${vocab}`],
  ];
  for (const [key, fewest, most, limit] of lists) {
    const ids = generation[key];
    checkIds(ids, `generation.${key}`, vocab, where);
    if (ids.length < fewest || ids.length > most) {
      throw refuse(where, `generation.${key} has ${ids.length} tokens, not ${limit}`);
    }
  }
  const keep = generation.cache_restart_keep;
  if (!(Number.isInteger(keep) && keep >= 1 && keep <= block)) {
    throw refuse(
      where,
      `generation.cache_restart_keep must be a whole number from 1 to model.block_size ${block}, ` +
        `not ${quote(keep)}`,
    );
  }
  const demo = generation.demo_prompt;
  if (demo !== undefined && typeof demo !== 'string') {
    throw refuse(where, `generation.demo_prompt must be text, not ${quote(demo)}`);
  }
  checkDefaults(generation.defaults, where);
}

function checkIds(ids, field, vocab, where) {
  if (!Array.isArray(ids)) {
    throw refuse(where, `${field} must be a list of token ids, not ${quote(ids)}`);
  }
  for (const id of ids) {
    if (!(Number.isInteger(id) && id >= 0 && id < vocab)) {
      throw refuse(
        where,
        `${field} holds ${quote(id)}, which is not a token id of this model (0 to ${vocab - 1})`,
      );
    }
  }
}

/** The sampling defaults the page fills its knobs with: the rules the knobs obey. */
function checkDefaults(defaults, where) {
  if (!isObject(defaults)) throw refuse(where, 'the manifest has no generation.defaults');
  const { temperature, top_k: topK, top_p: topP, max_new_tokens: length } = defaults;
  const bad = (key, rule, value) =>
    refuse(where, `generation.defaults.${key} must be ${rule}, not ${quote(value)}`);
  if (!temperatureOk(temperature)) throw bad('temperature', TEMPERATURE_RULE, temperature);
  if (!(topK === null || isPositiveInt(topK))) {
    throw bad('top_k', 'null or a whole number, at least 1', topK);
  }
  if (!(topP === null || (typeof topP === 'number' && topP > 0 && topP <= 1))) {
    throw bad('top_p', 'null or a number in (0, 1]', topP);
  }
  if (!(isPositiveInt(length) && length <= MAX_NEW_TOKENS)) {
    throw bad('max_new_tokens', `a whole number from 1 to ${MAX_NEW_TOKENS}`, length);
  }
}

/**
 * The tokenizer read from tokenizer.json has exactly the model's vocabulary, and its
 * special ids are in it: every id it produces is then a row of the graph's embedding.
 * @param {{vocabSize: number, eotId: number, unkId: number|null}} tokenizer
 * @param {object} model the manifest's model, after `checkManifest`
 * @param {string} where tokenizer.json's URL, for messages
 */
export function checkTokenizer(tokenizer, model, where) {
  const vocab = model.vocab_size;
  if (tokenizer.vocabSize !== vocab) {
    throw refuse(
      where,
      `the tokenizer has ${quote(tokenizer.vocabSize)} tokens but model.vocab_size is ${vocab}`,
    );
  }
  const inVocab = (id) => Number.isInteger(id) && id >= 0 && id < vocab;
  if (!inVocab(tokenizer.eotId)) {
    throw refuse(where, `its <|endoftext|> id ${quote(tokenizer.eotId)} is not in the vocabulary`);
  }
  if (tokenizer.unkId !== null && !inVocab(tokenizer.unkId)) {
    throw refuse(where, `its <unk> id ${quote(tokenizer.unkId)} is not in the vocabulary`);
  }
}

/**
 * The graph's declared inputs and outputs, where ONNX Runtime reports them, fit the
 * manifest: logits' last dimension is vocab_size, and past/present are
 * [n_layer, 2, batch, n_head, positions, head_dim]. Symbolic dimensions (strings) and
 * unreported shapes are left to the block-size probe (player.js), which checks the
 * dimensions of real outputs.
 * @param {{inputNames: string[], outputNames: string[], inputMetadata?: object[],
 *   outputMetadata?: object[]}} session an ONNX Runtime InferenceSession
 * @param {object} model the manifest's model, after `checkManifest`
 * @param {boolean} kv whether this is the KV graph (past in, present out)
 * @param {string} where the graph's URL, for messages
 */
export function checkGraph(session, model, kv, where) {
  const inputs = kv ? ['input_ids', 'past'] : ['input_ids'];
  const outputs = kv ? ['logits', 'present'] : ['logits'];
  const missing = [
    ...inputs.filter((n) => !session.inputNames.includes(n)).map((n) => `input ${n}`),
    ...outputs.filter((n) => !session.outputNames.includes(n)).map((n) => `output ${n}`),
  ];
  if (missing.length) throw refuse(where, `the graph has no ${missing.join(', ')}`);
  const shapes = shapesByName(session);
  const { n_layer: layers, n_head: heads, head_dim: headDim, vocab_size: vocab } = model;
  checkShape(shapes.get('logits'), { '-1': vocab }, null, `[batch, ${vocab}]`, 'logits', where);
  const cache = { 0: layers, 1: 2, 3: heads, 5: headDim };
  const needs = `[${layers}, 2, batch, ${heads}, positions, ${headDim}]`;
  for (const name of kv ? ['past', 'present'] : []) {
    checkShape(shapes.get(name), cache, 6, needs, name, where);
  }
}

/** Declared tensor shapes by name, from ONNX Runtime's metadata where it has any. */
function shapesByName(session) {
  const shapes = new Map();
  for (const meta of [...(session.inputMetadata ?? []), ...(session.outputMetadata ?? [])]) {
    if (meta?.isTensor && Array.isArray(meta.shape) && meta.shape.length) {
      shapes.set(meta.name, meta.shape);
    }
  }
  return shapes;
}

/**
 * A declared `shape` (numbers, and strings for symbolic dimensions) against the
 * manifest: `axes` maps an axis (-1: the last) to the size it must have where the
 * graph fixes it, `rank` (or null) is the number of axes, `needs` says it in words.
 */
function checkShape(shape, axes, rank, needs, name, where) {
  if (!shape) return;
  const fits =
    (rank === null || shape.length === rank) &&
    Object.entries(axes).every(([axis, size]) => {
      const dim = shape.at(Number(axis));
      return typeof dim !== 'number' || dim === size;
    });
  if (!fits) {
    const declared = `its ${name} is declared [${shape.join(', ')}]`;
    throw refuse(where, `${declared}, but the manifest's model needs ${needs}`);
  }
}

/**
 * A real output's dims, from the block-size probe, against what the manifest says.
 * @param {readonly number[]} dims
 * @param {number[]} expected
 */
export function checkDims(dims, expected, name, where) {
  if (dims.length !== expected.length || dims.some((d, i) => d !== expected[i])) {
    const [got, needs] = [dims, expected].map((d) => `[${d.join(', ')}]`);
    throw refuse(where, `its ${name} came out as ${got}, but the manifest's model needs ${needs}`);
  }
}
