/**
 * The page: pick a release from the registry, set the sampling knobs, stream text from
 * the worker. Every model step runs in src/worker.js; this file only touches the DOM.
 *
 * Query parameters: `registry` (default releases/registry.json, relative to the page)
 * and `model` (a release id to select first). A bundle's URL is its registry entry's
 * `path` resolved against the registry's URL.
 *
 * The registry and everything it points to are untrusted (src/registry.js,
 * src/manifest.js): the registry and the bundles must be at http(s) URLs, only an
 * http(s) model card becomes a link, and every string from them reaches the DOM
 * through `setText` (textContent, never innerHTML, with control and bidi characters
 * spelled out by src/untrusted.js `visible`), form values through `visible` too.
 *
 * `document.body.dataset.state` says where the page is (loading, ready, generating,
 * done, error), for people styling it and for the browser tests.
 *
 * A chess release (manifest `game: {kind: "chess", tier}`) gets a board instead of the
 * prompt and the output (`body.chess`): each model move is one POST to `sup serve`'s
 * /v1/daydream/move on this page's origin, which samples the model, has the engine
 * refuse illegal tries (the near-misses, drawn faded) and, against the engine, answers
 * the move. The engine is the only referee: the page holds no chess rules, so it cannot
 * disagree with the harness about any tier. Served statically, the page shows the
 * board and says that playing needs `sup serve`. While a game plays the state is
 * `generating`, then `done`.
 *
 * A chat release (manifest `chat`, a template with <|markers|>) gets a conversation
 * instead (`body.chat`): the person's messages on the right, the model's replies on the
 * left, each streamed into its bubble. The page keeps the conversation and sends all of
 * it with each message; the worker builds the prompt by the template (src/chat.js, the
 * rules of `sup chat`), crops it at whole turns to fit the context (the page then says
 * so and dims what was left out) and keeps the KV cache from reply to reply. The n-th
 * reply of the page's chat is sampled with seed + n, as `sup chat` does; a stopped
 * reply is left out of the conversation, with its question. Replies are model text:
 * shown through `setText`, like everything else from a bundle.
 */

import { specialMarkers } from './src/chat.js';
import { drawBoard, endText, parseFen, parseMove, tierBoard } from './src/chessboard.js';
import { promptField } from './src/controls.js';
import { cardUrl, checkEntry, describe, registryModels } from './src/registry.js';
import { TEMPERATURE_RULE, temperatureOk } from './src/sampling.js';
import { httpUrl, quote, visible } from './src/untrusted.js';

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
const registryRef = query.get('registry') ?? 'releases/registry.json';
const registryUrl = httpUrl(registryRef, location.href); // null: not http(s), refused below
const worker = new Worker(new URL('./src/worker.js', import.meta.url), { type: 'module' });

let models = [];
let modelLoaded = false;
let pendingText = '';
let chess = null; // the chess release's game: see newGame
let chat = null; // the chat release's conversation: see showChat

/** Show untrusted text in `element`: inert, and with unsafe characters visible. */
function setText(element, text) {
  element.textContent = visible(text);
}

function setState(state) {
  document.body.dataset.state = state;
  const busy = state === 'loading' || state === 'generating';
  $('generate').disabled = !modelLoaded || busy;
  $('stop').disabled = state !== 'generating';
  $('model').disabled = busy || models.length === 0;
  $('chess-play').disabled = !chess?.playable || busy || Boolean(chess.end);
  $('chess-pause').disabled = state !== 'generating' || !chess;
  $('chess-new').disabled = !chess || busy;
  $('chat-send').disabled = !modelLoaded || busy || !chat;
  $('chat-stop').disabled = state !== 'generating' || !chat;
  $('chat-new').disabled = !chat || busy;
}

function showError(message) {
  setText($('error'), message);
  $('error').hidden = false;
  setState('error');
}

function showNotice(message) {
  setText($('notice'), message);
  $('notice').hidden = !message;
}

async function fetchRegistry() {
  if (!registryUrl) throw new Error(`the registry ${quote(registryRef)} is not an http(s) URL`);
  let registry;
  try {
    const response = await fetch(registryUrl);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    registry = await response.json();
  } catch (e) {
    throw new Error(`cannot load the model registry ${registryUrl}: ${e.message}`);
  }
  return registryModels(registry, registryUrl.href);
}

/** Load a menu entry, or refuse it (a bad id, path or sha256) on the page. */
function loadModel(entry) {
  modelLoaded = false;
  showChess(null);
  showChat(null);
  $('error').hidden = true;
  showNotice('');
  let bundle;
  try {
    bundle = checkEntry(entry, registryUrl);
  } catch (e) {
    worker.postMessage({ type: 'unload' }); // so a load still under way cannot land
    setText($('model-info'), '');
    showError(e.message);
    return;
  }
  setText($('model-info'), `loading ${entry.id}…`);
  setState('loading');
  worker.postMessage({ type: 'load', ...bundle });
}

/** By position, not by id: a registry may list one id twice. */
function selectedEntry() {
  return models[$('model').selectedIndex];
}

/** The loaded model's knobs and description; the worker checked the manifest's values. */
function showModel(manifest) {
  const entry = selectedEntry();
  const { model, generation } = manifest;
  const { defaults } = generation;
  showControls(manifest.controls ?? null);
  showChess(manifest.game?.kind === 'chess' ? manifest.game : null, entry.id);
  showChat(manifest.chat ?? null);
  $('prompt').value = manifest.controls ? '' : visible(generation.demo_prompt ?? '');
  $('chat-input').value = visible(generation.demo_prompt ?? ''); // sent as a user turn
  $('temperature').value = defaults.temperature;
  checkTemperatureField();
  $('top-k').value = defaults.top_k ?? '';
  $('top-p').value = defaults.top_p ?? '';
  $('length').value = defaults.max_new_tokens;
  const info = $('model-info');
  const layers = `${model.n_layer} layer${model.n_layer === 1 ? '' : 's'}`;
  setText(
    info,
    `${model.arch} transformer, ${layers} × ${model.n_embd} wide, ` +
      `${model.block_size}-token context, ${manifest.tokenizer.type} tokenizer. `,
  );
  const card = cardUrl(entry, registryUrl); // javascript:, data: and the like: no link
  if (card) {
    const link = document.createElement('a');
    link.href = card.href;
    link.textContent = 'Model card';
    info.append(link);
  }
}

/**
 * A release's instrument controls as inputs: a slider for an integer (with its label,
 * when the field has labels), a text box for text. The field the prompt fills takes the
 * prompt box's place. The worker builds the prompt from the values (src/controls.js).
 */
function showControls(controls) {
  const box = $('instrument-controls');
  box.replaceChildren();
  box.hidden = !controls;
  $('prompt-label').hidden = Boolean(controls && promptField(controls));
  if (!controls) return;
  for (const f of controls.fields) {
    const label = document.createElement('label');
    label.title = visible(f.help ?? '');
    const name = document.createElement('span');
    name.textContent = visible(f.name.replaceAll('_', ' '));
    const input = document.createElement('input');
    input.dataset.control = f.name;
    input.id = `control-${f.name}`;
    if (f.type === 'integer') {
      Object.assign(input, { type: 'range', min: f.minimum, max: f.maximum, step: 1 });
      input.value = String(f.default);
      const shown = document.createElement('output');
      const show = () => {
        const value = Number(input.value);
        const word = f.labels ? ` (${f.labels[value - f.minimum]})` : '';
        shown.textContent = visible(`${value}${word}`);
      };
      input.addEventListener('input', show);
      show();
      label.append(name, input, shown);
    } else {
      Object.assign(input, { type: 'text', maxLength: f.max_chars, spellcheck: false });
      input.value = visible(f.default);
      label.append(name, input);
    }
    box.append(label);
  }
}

/** The control inputs' values, by field name (the worker checks them). */
function controlValues() {
  const values = {};
  for (const input of $('instrument-controls').querySelectorAll('input[data-control]')) {
    values[input.dataset.control] = input.type === 'range' ? Number(input.value) : input.value;
  }
  return values;
}

/** The temperature field as a number; empty or not a number is NaN, never 0 (greedy). */
function temperatureValue() {
  const text = $('temperature').value.trim();
  return text === '' ? NaN : Number(text);
}

/**
 * Mark the temperature field invalid (for :invalid styling and its tooltip) when it
 * breaks the rule the players share. The form has novalidate, so the check that counts
 * is generate()'s, which says the rule on the page rather than in a browser bubble.
 */
function checkTemperatureField() {
  const ok = temperatureOk(temperatureValue());
  $('temperature').setCustomValidity(ok ? '' : `temperature must be ${TEMPERATURE_RULE}`);
}

/** Optional number field: empty means "off" (null). */
function optionalNumber(id) {
  const value = $(id).value.trim();
  return value === '' ? null : Number(value);
}

function generate(event) {
  event.preventDefault();
  if (chess || chat) return; // Enter in a knob: these releases have their own buttons
  $('error').hidden = true;
  showNotice('');
  const temperature = temperatureValue();
  if (!temperatureOk(temperature)) {
    const got = $('temperature').value.trim() || 'nothing';
    showError(`temperature must be ${TEMPERATURE_RULE}, got ${got}`);
    return;
  }
  $('shown-prompt').textContent = $('prompt').value;
  $('generated').textContent = '';
  $('stats').textContent = '';
  setState('generating');
  worker.postMessage({
    type: 'generate',
    prompt: $('prompt').value,
    controls: controlValues(),
    temperature,
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
  if (chat?.pending) {
    const { reply } = chat.pending;
    reply.message.content += pendingText;
    setText(reply.bubble, reply.message.content);
    reply.bubble.scrollIntoView({ block: 'nearest' });
  } else {
    $('generated').append(pendingText);
  }
  pendingText = '';
}

const ENDINGS = { length: '', 'stop-token': ' · end of text', stopped: ' · stopped' };

function showRate(tokens, tokensPerSecond, reason = 'length') {
  const stats = chat ? $('chat-stats') : $('stats');
  stats.textContent = `${tokens} tokens · ${tokensPerSecond.toFixed(1)} tokens/s${ENDINGS[reason]}`;
  stats.dataset.tokens = tokens;
  stats.dataset.tokensPerSecond = tokensPerSecond;
}

// ---------------------------------------------------------------- a chat release

/**
 * Show the conversation for a chat template with <|markers|> (null, or a template
 * without markers: the text view), starting a new chat. A template without markers
 * was trained as plain text, so the prompt box plays it.
 */
function showChat(template) {
  chat = template && specialMarkers(template).length ? { turns: [], replies: 0 } : null;
  document.body.classList.toggle('chat', Boolean(chat));
  $('chat').hidden = !chat;
  if (chat) newChat();
}

/**
 * Forget the conversation. Like `sup chat`'s /reset, the reply count goes on, so no
 * two replies of the page's chat share a seed.
 */
function newChat() {
  Object.assign(chat, { turns: [], pending: null });
  $('chat-log').replaceChildren();
  $('chat-stats').textContent = '';
  delete $('chat').dataset.cachedTokens;
  $('error').hidden = true;
  showNotice('');
  if (modelLoaded) setState('ready');
}

/** A message's bubble at the end of the log; `who` is 'user' or 'model'. */
function addBubble(who, text) {
  const bubble = document.createElement('li');
  bubble.className = who;
  setText(bubble, text);
  $('chat-log').append(bubble);
  bubble.scrollIntoView({ block: 'nearest' });
  return bubble;
}

/** Send the message box as the next user turn and stream the model's reply. */
function sendChat(event) {
  event.preventDefault();
  const busy = ['loading', 'generating'].includes(document.body.dataset.state);
  const text = $('chat-input').value.trim();
  if (!chat || !modelLoaded || busy || !text) return;
  const temperature = temperatureValue();
  if (!temperatureOk(temperature)) {
    const got = $('temperature').value.trim() || 'nothing';
    showError(`temperature must be ${TEMPERATURE_RULE}, got ${got}`);
    return;
  }
  $('error').hidden = true;
  showNotice('');
  const question = { message: { role: 'user', content: text }, bubble: addBubble('user', text) };
  const reply = { message: { role: 'assistant', content: '' }, bubble: addBubble('model', '') };
  reply.bubble.classList.add('streaming');
  chat.pending = { question, reply };
  const seed = Number($('seed').value) + chat.replies;
  chat.replies += 1; // as sup chat: each reply asked for has its own seed, a stopped one too
  $('chat-input').value = '';
  $('chat-stats').textContent = '';
  setState('generating');
  worker.postMessage({
    type: 'chat',
    messages: [...chat.turns, question].map((turn) => turn.message),
    temperature,
    topK: optionalNumber('top-k'),
    topP: optionalNumber('top-p'),
    seed,
    maxNewTokens: Number($('length').value),
  });
}

/**
 * The reply under way has ended: a whole one (a stop token, or the length) joins the
 * conversation with its question; a stopped one, or one cut by an error, is left out
 * and shown so.
 */
function endReply(reason) {
  const { question, reply } = chat.pending;
  chat.pending = null;
  reply.bubble.classList.remove('streaming');
  if (reason === 'stop-token' || reason === 'length') {
    chat.turns.push(question, reply);
    return;
  }
  for (const { bubble } of [question, reply]) {
    bubble.classList.add('stopped');
    bubble.title = 'stopped: left out of the conversation';
  }
}

// ---------------------------------------------------------------- a chess release

const MOVE_URL = new URL('v1/daydream/move', location.href); // sup serve, this origin
const MODELS_URL = new URL('v1/models', location.href);
const SERVE_NOTE =
  'Playing needs sup serve (sup serve --releases DIR serves this page and the moves).';

/**
 * Show the board for `game` (a manifest's `game`, null: a text release) and start a
 * new game; then ask this origin whether `sup serve` plays `modelId`.
 */
function showChess(game, modelId) {
  const board = game && tierBoard(game);
  chess = board ? { board, modelId, playable: false } : null;
  document.body.classList.toggle('chess', Boolean(chess));
  $('chess').hidden = !chess;
  if (game && !board) showNotice(`This page has no board for the tier ${quote(game.tier)}.`);
  if (!chess) return;
  newGame();
  checkServe(chess);
}

/** Whether sup serve on this origin lists the model: a static host answers 404 or HTML. */
async function checkServe(game) {
  let listed = false;
  try {
    const response = await fetch(MODELS_URL, { headers: { accept: 'application/json' } });
    const body = response.ok ? await response.json() : null;
    listed = Array.isArray(body?.data) && body.data.some((m) => m?.id === game.modelId);
  } catch {
    listed = false; // not JSON, or no server: the note below says what playing needs
  }
  if (chess !== game) return; // another release was picked meanwhile
  game.playable = listed;
  $('chess-note').hidden = listed;
  $('chess-note').textContent = listed ? '' : SERVE_NOTE;
  setState(document.body.dataset.state);
}

/** Back to the start position (the page's copy of the engine's start FEN). */
function newGame() {
  Object.assign(chess, { moves: [], fen: chess.board.start, end: null, winner: null });
  Object.assign(chess, { lastMove: null, lastTried: [], paused: false });
  $('chess-moves').replaceChildren();
  $('error').hidden = true;
  drawChess();
  if (modelLoaded) setState('ready');
}

function drawChess() {
  const { files, ranks } = chess.board;
  drawBoard($('chess-board'), {
    fen: chess.fen,
    files,
    ranks,
    lastMove: chess.lastMove,
    tried: chess.lastTried,
  });
  const plies = chess.moves.length;
  $('chess').dataset.plies = plies;
  $('chess').dataset.end = chess.end ?? '';
  $('chess-board').dataset.fen = chess.fen;
  const over = chess.end ? `game over: ${endText(chess.end, chess.winner)} after ` : '';
  setText($('chess-status'), `${over}${plies} ${plies === 1 ? 'ply' : 'plies'}`);
}

/** An integer field in [low, high], or an Error saying the rule. */
function integerField(id, name, low, high) {
  const text = $(id).value.trim();
  const value = Number(text);
  if (text === '' || !Number.isInteger(value) || value < low || value > high) {
    const got = text || 'nothing';
    throw new Error(`${name} must be an integer from ${low} to ${high}, got ${got}`);
  }
  return value;
}

/** The game's knobs, checked by the rules the Python players use. */
function chessKnobs() {
  const temperature = temperatureValue();
  if (!temperatureOk(temperature)) {
    const got = $('temperature').value.trim() || 'nothing';
    throw new Error(`temperature must be ${TEMPERATURE_RULE}, got ${got}`);
  }
  return {
    temperature,
    seed: integerField('seed', 'seed', 0, 2 ** 32 - 1),
    level: integerField('chess-level', 'the engine level', 0, 20),
    plies: integerField('chess-plies', 'plies', 1, 1000),
    vs: $('chess-vs').value === 'self' ? 'self' : 'engine',
  };
}

/** Play from the current position until the game ends, the ply cap, Pause or an error. */
async function playChess() {
  const game = chess;
  let knobs;
  try {
    knobs = chessKnobs();
  } catch (e) {
    showError(e.message);
    return;
  }
  $('error').hidden = true;
  game.paused = false;
  setState('generating');
  try {
    while (!game.end && game.moves.length < knobs.plies && !game.paused && chess === game) {
      const { temperature, seed } = knobs;
      const body = { model: game.modelId, moves: [...game.moves], temperature, seed };
      if (knobs.vs === 'engine' && game.moves.length + 1 < knobs.plies) {
        body.reply = { level: knobs.level };
      }
      const step = await postMove(body);
      addPly(game, step, 'model');
      if (step.reply) addPly(game, step.reply, 'engine');
      drawChess();
    }
    if (!game.end && game.moves.length >= knobs.plies) game.end = 'ply cap';
    drawChess();
    setState('done');
  } catch (e) {
    showError(e.message);
  }
}

/** One request to sup serve; its one-line error, or what went wrong on the way. */
async function postMove(body) {
  let response;
  try {
    response = await fetch(MOVE_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new Error(`cannot reach sup serve: ${e.message}`);
  }
  const reply = await response.json().catch(() => null);
  if (!response.ok) {
    const message = reply?.error?.message ?? `HTTP ${response.status}`;
    throw new Error(`sup serve refused the move: ${message}`);
  }
  return reply;
}

/**
 * Record a ply from the server: the board checks its move and FEN fit this tier before
 * anything is drawn (the move list shows text through `setText`, the tries too).
 */
function addPly(game, step, by) {
  const { files, ranks } = game.board;
  if (!parseMove(step?.move, files, ranks)) {
    throw new Error(`sup serve sent a move ${quote(step?.move)} that is not on this board`);
  }
  parseFen(step.fen, files, ranks); // throws on a FEN that does not fit
  const tried = Array.isArray(step.tried) ? step.tried.map(String) : [];
  game.moves.push(step.move);
  Object.assign(game, { fen: step.fen, end: step.end ?? null, winner: step.winner ?? null });
  game.lastMove = step.move;
  if (by === 'model') game.lastTried = tried;
  const item = document.createElement('li');
  item.dataset.by = by;
  item.dataset.move = step.move;
  for (const miss of tried) {
    const span = document.createElement('span');
    span.className = 'tried';
    span.title = 'a near-miss: the engine refused it';
    setText(span, miss || '(end of game)');
    item.append(span, ' ');
  }
  const move = document.createElement('span');
  move.className = 'move';
  setText(move, step.move);
  const note = document.createElement('span');
  note.className = 'by';
  note.textContent = ` ${by}${step.forced ? ', forced' : ''}`;
  item.append(move, note);
  $('chess-moves').append(item);
  item.scrollIntoView({ block: 'nearest' });
}

const onMessage = {
  loaded({ manifest }) {
    modelLoaded = true;
    showModel(manifest);
    setState('ready');
  },
  started({ prompt, unknown, cropped }) {
    $('shown-prompt').textContent = visible(prompt); // with controls, the template filled in
    const notes = [];
    if (unknown) {
      notes.push(`${unknown} character(s) of the prompt are not in this model's vocabulary.`);
    }
    if (cropped) notes.push("The prompt is longer than the model's context; it sees only the end.");
    showNotice(notes.join(' '));
  },
  replying({ dropped, cachedTokens }) {
    if (!chat) return;
    // the first `dropped` turns are outside what the model reads (no system turns here)
    chat.turns.forEach((turn, i) => turn.bubble.classList.toggle('left-out', i < dropped));
    $('chat').dataset.cachedTokens = cachedTokens;
    if (dropped) {
      const what = dropped === 1 ? 'message was' : `${dropped} messages were`;
      showNotice(`The conversation outgrew the model's context: the oldest ${what} left out.`);
    }
  },
  piece({ text, tokens, tokensPerSecond }) {
    if (text) appendText(text);
    showRate(tokens, tokensPerSecond);
  },
  done({ tokens, tokensPerSecond, reason }) {
    flushText();
    if (chat?.pending) endReply(reason);
    showRate(tokens, tokensPerSecond, reason);
    setState('done');
  },
  error({ message }) {
    flushText();
    if (chat?.pending) endReply('error');
    if (!modelLoaded) setText($('model-info'), '');
    showError(message);
  },
};

worker.onmessage = ({ data }) => onMessage[data.type](data);
worker.onerror = (event) => showError(`the player stopped: ${event.message ?? 'worker error'}`);

$('controls').addEventListener('submit', generate);
$('stop').addEventListener('click', () => worker.postMessage({ type: 'stop' }));
$('model').addEventListener('change', () => loadModel(selectedEntry()));
$('temperature').addEventListener('input', checkTemperatureField);
$('chess-play').addEventListener('click', playChess);
$('chess-pause').addEventListener('click', () => {
  if (chess) chess.paused = true; // the loop stops after the move in flight
});
$('chess-new').addEventListener('click', newGame);
$('chat-form').addEventListener('submit', sendChat);
$('chat-input').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault(); // Enter sends, Shift+Enter starts a new line
    $('chat-form').requestSubmit();
  }
});
$('chat-stop').addEventListener('click', () => worker.postMessage({ type: 'stop' }));
$('chat-new').addEventListener('click', newChat);

try {
  models = await fetchRegistry();
  for (const entry of models) {
    $('model').append(new Option(visible(describe(entry)), String(entry.id)));
  }
  const wanted = query.has('model') ? models.findIndex((m) => m.id === query.get('model')) : -1;
  if (wanted >= 0) $('model').selectedIndex = wanted;
  loadModel(selectedEntry());
} catch (e) {
  showError(e.message);
}
