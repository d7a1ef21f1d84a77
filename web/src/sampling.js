/**
 * Token choice and text streaming, following the generation rule every sup player
 * shares (Python's sup.sampling.pick_token_np, in the same order of operations: ban,
 * temperature, top-k, softmax, top-p, sample). Greedy decoding matches Python token for
 * token; sampled text is reproducible from the seed within the browser player, but its
 * random numbers are not numpy's, so it is not expected to equal Python's samples.
 */

const MASK64 = (1n << 64n) - 1n;

/**
 * The valid temperatures, as in every sup player (Python's sup.play.sampling
 * MIN_TEMPERATURE, MAX_TEMPERATURE and temperature_ok): 0 (greedy) or a finite number
 * from MIN to MAX. Below MIN the logits divided by it overflow (a subnormal gives
 * inf - inf = NaN); above MAX every distribution is already uniform to float precision.
 */
export const MIN_TEMPERATURE = 0.01;
export const MAX_TEMPERATURE = 100;
export const TEMPERATURE_RULE =
  `0 (greedy) or a number from ${MIN_TEMPERATURE} to ${MAX_TEMPERATURE}`;

/** Whether `temperature` is valid (see TEMPERATURE_RULE); a string or NaN is not. */
export function temperatureOk(temperature) {
  if (typeof temperature !== 'number' || !Number.isFinite(temperature)) return false;
  return temperature === 0 || (temperature >= MIN_TEMPERATURE && temperature <= MAX_TEMPERATURE);
}

/**
 * Throw one message naming the rule for the first sampling setting out of range, as
 * the Python players check their flags (sup.play.sampling.check_sampling).
 * @param {{maxNewTokens: number, temperature: number, topK: number|null,
 *   topP: number|null}} options
 */
export function checkSampling({ maxNewTokens, temperature, topK, topP }) {
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
    throw new Error(`length must be a whole number, at least 1 (got ${maxNewTokens})`);
  }
  if (!temperatureOk(temperature)) {
    throw new Error(`temperature must be ${TEMPERATURE_RULE}, got ${temperature}`);
  }
  if (topK != null && !(Number.isInteger(topK) && topK >= 1)) {
    throw new Error(`top-k must be a whole number, at least 1 (got ${topK})`);
  }
  if (topP != null && !(typeof topP === 'number' && topP > 0 && topP <= 1)) {
    throw new Error(`top-p must be in (0, 1], got ${topP}`);
  }
}

/**
 * SplitMix64 (Steele, Lea & Flood 2014), used only to expand the seed into generator
 * state, as Vigna recommends for the xoshiro family. Returns [state, output].
 */
function splitMix64(state) {
  state = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = state;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [state, z ^ (z >> 31n)];
}

/**
 * xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c):
 * a small, fast 32-bit generator with 128 bits of state and good statistical quality.
 * The same seed gives the same numbers in every browser.
 */
export class Rng {
  /** @param {number} seed a non-negative safe integer */
  constructor(seed) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`seed must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
    }
    let state = BigInt(seed);
    const words = [];
    for (let i = 0; i < 2; i++) {
      let out;
      [state, out] = splitMix64(state);
      words.push(Number(out & 0xffffffffn), Number(out >> 32n));
    }
    this.s = Uint32Array.from(words);
  }

  /** The next 32-bit output, as an unsigned integer. */
  nextUint32() {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform number in [0, 1). */
  uniform() {
    return this.nextUint32() / 2 ** 32;
  }
}

function rotl(x, k) {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Choose the next token from the logits of the last position.
 *
 * @param {Float32Array} logits
 * @param {{temperature: number, topK: number|null, topP: number|null}} options
 *   temperature 0 is greedy: argmax, the first index winning ties
 * @param {Rng} rng used only when sampling
 * @param {number[]} bannedIds tokens never picked (e.g. <unk>)
 * @returns {number} the token id
 */
export function pickToken(logits, { temperature, topK, topP }, rng, bannedIds = []) {
  const z = Float64Array.from(logits);
  for (const id of bannedIds) z[id] = -Infinity;
  if (temperature === 0) return argmax(z);
  for (let i = 0; i < z.length; i++) z[i] /= temperature;
  if (topK != null && topK < z.length) {
    // keep logits >= the k-th largest (ties at the cut are all kept, as in Python)
    const kth = Float64Array.from(z).sort()[z.length - topK];
    for (let i = 0; i < z.length; i++) if (z[i] < kth) z[i] = -Infinity;
  }
  const probs = softmax(z);
  if (topP != null && topP < 1) nucleus(probs, topP);
  return sample(probs, rng);
}

function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function softmax(z) {
  const max = z.reduce((a, b) => Math.max(a, b), -Infinity);
  const probs = z.map((v) => Math.exp(v - max));
  const sum = probs.reduce((a, b) => a + b, 0);
  return probs.map((p) => p / sum);
}

/**
 * Top-p in place: keep the smallest prefix of the probabilities sorted high to low
 * (ties in index order) whose cumulative sum before each entry is <= topP, then
 * renormalise.
 */
function nucleus(probs, topP) {
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  let cumulative = 0;
  let kept = 0;
  for (const i of order) {
    const p = probs[i];
    cumulative += p;
    if (cumulative - p > topP) probs[i] = 0;
    else kept += p;
  }
  for (let i = 0; i < probs.length; i++) probs[i] /= kept;
}

/** Draw an index with the given probabilities (which sum to 1 up to rounding). */
function sample(probs, rng) {
  let u = rng.uniform();
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    u -= probs[i];
    if (u < 0) return i;
    last = i;
  }
  return last; // rounding left u a hair above zero: the last possible token
}

/**
 * Token bytes in, text out, never splitting a character across tokens. Invalid bytes
 * become U+FFFD, as Python's errors="replace"; a leading U+FEFF is text, not a byte
 * order mark to drop (Python's "utf-8" codec keeps it too).
 */
export class Utf8Stream {
  constructor() {
    this.decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  }

  /** @param {Uint8Array} bytes @returns {string} the text completed so far */
  push(bytes) {
    return this.decoder.decode(bytes, { stream: true });
  }

  /** The rest: an unfinished character at the end becomes U+FFFD. */
  flush() {
    return this.decoder.decode();
  }
}
