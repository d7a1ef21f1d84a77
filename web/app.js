/**
 * The page: pick a release from the registry, set the sampling knobs, stream text from
 * the worker. Every model step runs in src/worker.js; this file only touches the DOM.
 *
 * Query parameters: `registry` (default releases/registry.json, relative to the page)
 * and `model` (a release id to select first). A bundle's URL is its registry entry's
 * `path` resolved against the registry's URL.
 *
 * `document.body.dataset.state` says where the page is (loading, ready, generating,
 * done, error), for people styling it and for the browser tests.
 */

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
const registryUrl = new URL(query.get('registry') ?? 'releases/registry.json', location.href);
const worker = new Worker(new URL('./src/worker.js', import.meta.url), { type: 'module' });

let models = [];
let modelLoaded = false;
let pendingText = '';

function setState(state) {
  document.body.dataset.state = state;
  const busy = state === 'loading' || state === 'generating';
  $('generate').disabled = !modelLoaded || busy;
  $('stop').disabled = state !== 'generating';
  $('model').disabled = busy || models.length === 0;
}

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = false;
  setState('error');
}

function showNotice(message) {
  $('notice').textContent = message;
  $('notice').hidden = !message;
}

async function fetchRegistry() {
  let registry;
  try {
    const response = await fetch(registryUrl);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    registry = await response.json();
  } catch (e) {
    throw new Error(`cannot load the model registry ${registryUrl}: ${e.message}`);
  }
  if (registry?.format !== 'sup-registry' || registry.version !== 1) {
    throw new Error(`${registryUrl} is not a version 1 sup registry`);
  }
  if (!registry.models?.length) throw new Error(`${registryUrl} lists no models`);
  return registry.models;
}

/** One line per release in the menu: id, size in parameters and bytes, tokenizer. */
function describe({ id, params, size, tokenizer, precision }) {
  const count = params >= 1e6 ? `${(params / 1e6).toFixed(1)}M` : `${Math.round(params / 1e3)}k`;
  const megabytes = (size / 1e6).toFixed(1);
  return `${id} · ${count} params · ${tokenizer.type} · ${precision} · ${megabytes} MB`;
}

function loadModel(entry) {
  modelLoaded = false;
  $('error').hidden = true;
  showNotice('');
  $('model-info').textContent = `loading ${entry.id}…`;
  setState('loading');
  worker.postMessage({
    type: 'load',
    url: new URL(entry.path, registryUrl).href,
    manifestSha256: entry.manifest_sha256,
  });
}

function selectedEntry() {
  return models.find((m) => m.id === $('model').value);
}

function showModel(manifest) {
  const entry = selectedEntry();
  const { model, generation } = manifest;
  const { defaults } = generation;
  $('prompt').value = generation.demo_prompt ?? '';
  $('temperature').value = defaults.temperature;
  $('top-k').value = defaults.top_k ?? '';
  $('top-p').value = defaults.top_p ?? '';
  $('length').value = defaults.max_new_tokens;
  const info = $('model-info');
  const layers = `${model.n_layer} layer${model.n_layer === 1 ? '' : 's'}`;
  info.textContent =
    `${model.arch} transformer, ${layers} × ${model.n_embd} wide, ` +
    `${model.block_size}-token context, ${manifest.tokenizer.type} tokenizer. `;
  if (entry?.card) {
    const link = document.createElement('a');
    link.href = new URL(entry.card, registryUrl).href;
    link.textContent = 'Model card';
    info.append(link);
  }
}

/** Optional number field: empty means "off" (null). */
function optionalNumber(id) {
  const value = $(id).value.trim();
  return value === '' ? null : Number(value);
}

function generate(event) {
  event.preventDefault();
  $('error').hidden = true;
  showNotice('');
  $('shown-prompt').textContent = $('prompt').value;
  $('generated').textContent = '';
  $('stats').textContent = '';
  setState('generating');
  worker.postMessage({
    type: 'generate',
    prompt: $('prompt').value,
    temperature: Number($('temperature').value),
    topK: optionalNumber('top-k'),
    topP: optionalNumber('top-p'),
    seed: Number($('seed').value),
    maxNewTokens: Number($('length').value),
  });
}

/** Text arrives per token; the DOM is touched at most once a frame. */
function appendText(text) {
  if (!pendingText) requestAnimationFrame(flushText);
  pendingText += text;
}

function flushText() {
  if (!pendingText) return;
  $('generated').append(pendingText);
  pendingText = '';
}

const ENDINGS = { length: '', 'stop-token': ' · end of text', stopped: ' · stopped' };

function showRate(tokens, tokensPerSecond, reason = 'length') {
  const stats = $('stats');
  stats.textContent = `${tokens} tokens · ${tokensPerSecond.toFixed(1)} tokens/s${ENDINGS[reason]}`;
  stats.dataset.tokens = tokens;
  stats.dataset.tokensPerSecond = tokensPerSecond;
}

const onMessage = {
  loaded({ manifest }) {
    modelLoaded = true;
    showModel(manifest);
    setState('ready');
  },
  started({ unknown, cropped }) {
    const notes = [];
    if (unknown) {
      notes.push(`${unknown} character(s) of the prompt are not in this model's vocabulary.`);
    }
    if (cropped) notes.push("The prompt is longer than the model's context; it sees only the end.");
    showNotice(notes.join(' '));
  },
  piece({ text, tokens, tokensPerSecond }) {
    if (text) appendText(text);
    showRate(tokens, tokensPerSecond);
  },
  done({ tokens, tokensPerSecond, reason }) {
    flushText();
    showRate(tokens, tokensPerSecond, reason);
    setState('done');
  },
  error({ message }) {
    flushText();
    if (!modelLoaded) $('model-info').textContent = '';
    showError(message);
  },
};

worker.onmessage = ({ data }) => onMessage[data.type](data);
worker.onerror = (event) => showError(`the player stopped: ${event.message ?? 'worker error'}`);

$('controls').addEventListener('submit', generate);
$('stop').addEventListener('click', () => worker.postMessage({ type: 'stop' }));
$('model').addEventListener('change', () => loadModel(selectedEntry()));

try {
  models = await fetchRegistry();
  for (const entry of models) $('model').append(new Option(describe(entry), entry.id));
  const wanted = query.get('model');
  if (models.some((m) => m.id === wanted)) $('model').value = wanted;
  loadModel(selectedEntry());
} catch (e) {
  showError(e.message);
}
