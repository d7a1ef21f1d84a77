/**
 * The three sup tokenizers (char, byte, byte-level BPE), read from the run's
 * tokenizer.json and encoding exactly like Python's sup.tokenizer: same ids for the same
 * text, same bytes for every token. Shared vectors in tests/vectors/tokenizers.json
 * hold every implementation to that.
 *
 * Each tokenizer has `vocabSize`, `eotId`, `unkId` (null where there is none),
 * `encode(text) -> {ids, unknown}`, `tokenBytes(id) -> Uint8Array` and
 * `specialTokens() -> Map` (name to id: <|endoftext|>, <unk>, and a chat model's
 * <|markers|>, which encode never produces from text; chat.js uses them). Text is never
 * decoded from a lone token: players join token bytes and stream them through one UTF-8
 * decoder (sampling.js), so a character split across tokens comes out whole.
 */

import { quote } from './untrusted.js';

const EOT = '<|endoftext|>';
const UNK = '<unk>';
const FORMAT_VERSION = 1;
const NO_BYTES = new Uint8Array(0);
const utf8 = new TextEncoder();

/**
 * One id per character (Unicode code point) of the training text, then <|endoftext|>
 * and <unk>. A character outside the vocabulary, astral ones included, encodes to <unk>
 * and is counted, so the page can say how much of a prompt the model cannot see.
 */
class CharTokenizer {
  constructor(json) {
    // each character's id is its index, so there may be no more than vocab_size of them
    if (!Array.isArray(json.chars) || json.chars.length > json.vocab_size) {
      throw new Error('this char tokenizer has more characters than its vocab_size');
    }
    this.chars = json.chars.map(String);
    this.vocabSize = json.vocab_size;
    this.eotId = json.special_tokens[EOT];
    this.unkId = json.special_tokens[UNK];
    this.ids = new Map(this.chars.map((ch, i) => [ch, i]));
    this.bytes = this.chars.map((ch) => utf8.encode(ch));
  }

  specialTokens() {
    return new Map([
      [EOT, this.eotId],
      [UNK, this.unkId],
    ]);
  }

  encode(text) {
    const ids = [];
    let unknown = 0;
    // for..of walks code points, so an emoji is one character, as in Python.
    for (const ch of text) {
      const id = this.ids.get(ch);
      if (id === undefined) unknown += 1;
      ids.push(id ?? this.unkId);
    }
    return { ids, unknown };
  }

  tokenBytes(id) {
    return this.bytes[id] ?? NO_BYTES;
  }
}

/** The 256 byte values of the UTF-8 text, then <|endoftext|>. */
class ByteTokenizer {
  constructor(json) {
    if (!(json.vocab_size >= 256)) {
      throw new Error('this byte tokenizer has a vocab_size below 256, the ids of its bytes');
    }
    this.vocabSize = json.vocab_size;
    this.eotId = json.special_tokens[EOT];
    this.unkId = null;
  }

  encode(text) {
    return { ids: Array.from(utf8.encode(text)), unknown: 0 };
  }

  tokenBytes(id) {
    return id < 256 ? Uint8Array.of(id) : NO_BYTES;
  }

  specialTokens() {
    return new Map([[EOT, this.eotId]]);
  }
}

/**
 * GPT-2's pre-tokenizer split, as Hugging Face's ByteLevel pre-tokenizer runs it.
 * Its `\s` is the Unicode White_Space property, which JavaScript's `\s` is not (JS adds
 * U+FEFF and leaves out U+0085), so the class is spelled out as \p{White_Space}; `\S`
 * becomes \P{White_Space}. The u flag gives \p{...} and matches whole code points.
 */
const GPT2_SPLIT =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/**
 * The bpe-words pre-tokenizer (sup.formats.bpe.WORDS_PATTERN): a word with its leading
 * space, or whitespace, whitespace being the White_Space property as above. The JSON
 * holds the pattern spelled with those characters; it is recognised, not compiled.
 */
const WORDS_SPLIT =
  /\x20?\P{White_Space}+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;
const WHITE_SPACE =
  '\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007' +
  '\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';
const WORDS_PATTERN = `\x20?[^${WHITE_SPACE}]+|[${WHITE_SPACE}]+(?![^${WHITE_SPACE}])|[${WHITE_SPACE}]+`;

/**
 * The byte-level BPE alphabet (sup.tokenizer.byte_to_unicode): printable Latin-1 bytes
 * stand for themselves, the rest are shifted to code points 256 and up in byte order.
 * Returns the character for each byte value.
 */
function byteAlphabet() {
  const printable = (b) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let shifted = 0;
  return Array.from({ length: 256 }, (_, b) =>
    String.fromCodePoint(printable(b) ? b : 256 + shifted++),
  );
}

/**
 * Byte-level BPE from the Hugging Face tokenizers JSON that sup trains: split with the
 * GPT-2 regex, map each piece's UTF-8 bytes into the byte alphabet, then merge adjacent
 * symbols, lowest merge rank first, until no ranked pair is left. A literal
 * "<|endoftext|>" in the text is ordinary text (Python sets encode_special_tokens), so
 * encoding stays lossless; so is a chat model's "<|user|>" and every other special
 * token, which only a chat template (chat.js) puts into a prompt by its id.
 */
class BpeTokenizer {
  constructor(json) {
    const hf = json.hf ?? {};
    this.split = checkSupportedBpe(hf);
    this.vocabSize = json.vocab_size;
    this.eotId = json.special_tokens[EOT];
    this.unkId = null;
    this.alphabet = byteAlphabet();
    this.vocab = new Map(Object.entries(hf.model.vocab));
    // Byte-level symbols never contain U+0020 (space is Ġ), so "a b" is an unambiguous
    // key; merges come either as [a, b] pairs or as "a b" strings, in rank order.
    this.ranks = new Map(
      hf.model.merges.map((m, rank) => [Array.isArray(m) ? `${m[0]} ${m[1]}` : m, rank]),
    );
    this.checkVocab();
    this.specials = this.readSpecials(json, hf);
    this.bytes = this.buildBytesTable(hf);
  }

  /**
   * Every id encode can produce is below vocab_size, and every byte symbol has an id:
   * a vocabulary from an untrusted bundle could otherwise feed the graph an id it has
   * no row for, or none at all.
   */
  checkVocab() {
    for (const id of this.vocab.values()) {
      if (!(Number.isInteger(id) && id >= 0 && id < this.vocabSize)) {
        throw new Error(`this BPE tokenizer has token id ${id}, outside its vocab_size`);
      }
    }
    if (!this.alphabet.every((symbol) => this.vocab.has(symbol))) {
      throw new Error('this BPE tokenizer has no token for some byte values');
    }
  }

  /**
   * The special tokens, from tokenizer.json's `special_tokens`: ids of this vocabulary,
   * and the same names and ids as Hugging Face's `added_tokens`, which the Python player
   * reads them from (sup/formats/bpe.py), so a chat prompt gets the same ids in both.
   */
  readSpecials(json, hf) {
    const specials = new Map(
      isPlainObject(json.special_tokens) ? Object.entries(json.special_tokens) : [],
    );
    const added = new Map((hf.added_tokens ?? []).map((t) => [t?.content, t?.id]));
    const same =
      specials.size === added.size && [...specials].every(([name, id]) => added.get(name) === id);
    if (!same) {
      throw new Error("this BPE tokenizer's special_tokens differ from its added_tokens");
    }
    for (const [name, id] of specials) {
      if (!(Number.isInteger(id) && id >= 0 && id < this.vocabSize)) {
        const what = `special token ${quote(name)} has id ${quote(id)}`;
        throw new Error(`this BPE tokenizer's ${what}, outside its vocab_size`);
      }
    }
    return specials;
  }

  specialTokens() {
    return new Map(this.specials);
  }

  /** Each token's exact bytes: its vocab string mapped back through the alphabet. */
  buildBytesTable(hf) {
    const toByte = new Map(this.alphabet.map((ch, b) => [ch, b]));
    const specials = new Set((hf.added_tokens ?? []).map((t) => t.id));
    const table = new Array(this.vocabSize).fill(NO_BYTES);
    for (const [token, id] of this.vocab) {
      if (!specials.has(id)) table[id] = Uint8Array.from(token, (ch) => toByte.get(ch));
    }
    return table;
  }

  encode(text) {
    const ids = [];
    for (const [piece] of text.matchAll(this.split)) {
      const symbols = Array.from(utf8.encode(piece), (b) => this.alphabet[b]);
      for (const symbol of this.merge(symbols)) ids.push(this.vocab.get(symbol));
    }
    return { ids, unknown: 0 };
  }

  /**
   * Repeatedly merge the adjacent pair with the lowest rank (all its occurrences, left
   * to right, as GPT-2 does; this gives the same symbols as Hugging Face's one-at-a-time
   * priority queue because equal pairs share a rank and the leftmost goes first).
   */
  merge(symbols) {
    while (symbols.length > 1) {
      let best = Infinity;
      let pair = null;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (rank !== undefined && rank < best) {
          best = rank;
          pair = [symbols[i], symbols[i + 1]];
        }
      }
      if (pair === null) break;
      const merged = [];
      for (let i = 0; i < symbols.length; i++) {
        if (symbols[i] === pair[0] && symbols[i + 1] === pair[1]) {
          merged.push(pair[0] + pair[1]);
          i += 1;
        } else {
          merged.push(symbols[i]);
        }
      }
      symbols = merged;
    }
    return symbols;
  }

  tokenBytes(id) {
    return this.bytes[id] ?? NO_BYTES;
  }
}

/**
 * The split regex for a supported pre-tokenizer: GPT-2's (ByteLevel with its regex) or
 * spaced words (Split on WORDS_PATTERN, then ByteLevel without a regex); null otherwise.
 */
function preTokenizerSplit(pre) {
  if (pre.type === 'ByteLevel' && pre.add_prefix_space === false && pre.use_regex !== false) {
    return GPT2_SPLIT;
  }
  const steps = pre.type === 'Sequence' ? pre.pretokenizers : null;
  const words =
    Array.isArray(steps) &&
    steps.length === 2 &&
    steps[0]?.type === 'Split' &&
    steps[0].pattern?.Regex === WORDS_PATTERN &&
    steps[0].behavior === 'Isolated' &&
    !steps[0].invert &&
    steps[1]?.type === 'ByteLevel' &&
    steps[1].add_prefix_space === false &&
    steps[1].use_regex === false;
  return words ? WORDS_SPLIT : null;
}

/**
 * Refuse Hugging Face settings this encoder does not implement, rather than encode
 * differently from Python without a word. Returns the pre-tokenizer's split regex.
 */
function checkSupportedBpe(hf) {
  const split = preTokenizerSplit(hf.pre_tokenizer ?? {});
  const model = hf.model ?? {};
  const supported =
    hf.normalizer == null &&
    split !== null &&
    model.type === 'BPE' &&
    !model.continuing_subword_prefix &&
    !model.end_of_word_suffix &&
    !model.byte_fallback &&
    !model.ignore_merges &&
    model.dropout == null;
  if (!supported) {
    throw new Error('this BPE tokenizer uses settings the browser player does not support');
  }
  return split;
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const KINDS = { char: CharTokenizer, byte: ByteTokenizer, bpe: BpeTokenizer };

/** A tokenizer from a parsed tokenizer.json object; throws on an unknown type or version. */
export function tokenizerFromJson(json) {
  if (json?.version !== FORMAT_VERSION) {
    throw new Error(`tokenizer format version ${json?.version} is not supported`);
  }
  const Kind = KINDS[json.type];
  if (!Kind) throw new Error(`unknown tokenizer type ${json.type} (expected char, byte or bpe)`);
  return new Kind(json);
}
