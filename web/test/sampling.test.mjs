// Token choice and UTF-8 streaming. Expected strings come from Python's
// bytes.decode('utf-8', 'replace'); expected generator outputs from an independent
// Python implementation of SplitMix64 + xoshiro128**.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  checkSampling,
  MAX_TEMPERATURE,
  MIN_TEMPERATURE,
  pickToken,
  Rng,
  temperatureOk,
  TEMPERATURE_RULE,
  Utf8Stream,
} from '../src/sampling.js';

const GREEDY = { temperature: 0, topK: null, topP: null };

test('Rng reproduces the reference xoshiro128** stream', () => {
  const expected = {
    0: [3737715805, 2584255861, 2876756834, 3286328325, 1553311962],
    12345: [2314518269, 2498321016, 2055377852, 4042509560, 1267802836],
    [Number.MAX_SAFE_INTEGER]: [1233166643, 1287031142, 661813442, 2960669951, 2601079046],
  };
  for (const [seed, outputs] of Object.entries(expected)) {
    const rng = new Rng(Number(seed));
    assert.deepEqual(outputs.map(() => rng.nextUint32()), outputs);
  }
  assert.throws(() => new Rng(-1), /seed/);
  assert.throws(() => new Rng(0.5), /seed/);
});

test('greedy is argmax with the first index winning ties, banned ids never win', () => {
  const logits = Float32Array.of(1, 5, 5, 2);
  assert.equal(pickToken(logits, GREEDY, null), 1);
  assert.equal(pickToken(logits, GREEDY, null, [1]), 2);
  assert.equal(pickToken(logits, GREEDY, null, [1, 2]), 3);
});

test('top-k and top-p restrict sampling to the head of the distribution', () => {
  const logits = Float32Array.of(0, 3, 1, 2.5, -1);
  const rng = new Rng(7);
  const seen = (options, banned) => {
    const ids = new Set();
    for (let i = 0; i < 400; i++) ids.add(pickToken(logits, options, rng, banned));
    return [...ids].sort();
  };
  assert.deepEqual(seen({ temperature: 1, topK: 2, topP: null }), [1, 3]);
  assert.deepEqual(seen({ temperature: 1, topK: 1, topP: null }), [1]);
  // sorted probs 0.55 (id 1), 0.34 (id 3), 0.07 (id 2): id 3 has 0.55 <= 0.6 before it, id 2 0.89
  assert.deepEqual(seen({ temperature: 1, topK: null, topP: 0.6 }), [1, 3]);
  assert.deepEqual(seen({ temperature: 1, topK: null, topP: 0.1 }), [1]);
  assert.deepEqual(seen({ temperature: 1, topK: 2, topP: null }, [1]), [2, 3]);
  assert.deepEqual(seen({ temperature: 100, topK: null, topP: null }), [0, 1, 2, 3, 4]);
});

test('the same seed gives the same samples', () => {
  const logits = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
  const options = { temperature: 0.9, topK: 20, topP: 0.95 };
  const run = (seed) => {
    const rng = new Rng(seed);
    return Array.from({ length: 30 }, () => pickToken(logits, options, rng));
  };
  assert.deepEqual(run(3), run(3));
  assert.notDeepEqual(run(3), run(4));
});

test('Utf8Stream joins split characters and replaces invalid bytes like Python', () => {
  const cases = [
    [['e4b8', '96'], '世'],
    [['f0', '9f', '8e', '89'], '🎉'],
    [['e4b8'], '\ufffd'],
    [['61ff62'], 'a\ufffdb'],
    [['eda080', '78'], '\ufffd\ufffd\ufffdx'],
    [['efbb', 'bf6869'], '\ufeffhi'],
    [['c0af7a'], '\ufffd\ufffdz'],
    [['f4908080', '21'], '\ufffd\ufffd\ufffd\ufffd!'],
  ];
  for (const [chunks, expected] of cases) {
    const stream = new Utf8Stream();
    const pieces = chunks.map((hex) => stream.push(Buffer.from(hex, 'hex')));
    const text = pieces.join('') + stream.flush();
    assert.equal(text, expected, chunks.join(' '));
  }
  const stream = new Utf8Stream();
  assert.equal(stream.push(Buffer.from('e4b8', 'hex')), '', 'an unfinished character waits');
});

test('temperature is 0 (greedy) or a finite number from 0.01 to 100, as in Python', () => {
  // sup.play.sampling MIN_TEMPERATURE, MAX_TEMPERATURE and TEMPERATURE_RULE
  assert.equal(MIN_TEMPERATURE, 0.01);
  assert.equal(MAX_TEMPERATURE, 100);
  assert.equal(TEMPERATURE_RULE, '0 (greedy) or a number from 0.01 to 100');
  for (const t of [0, -0, 0.01, 0.5, 1, 2.5, 99.99, 100]) assert.ok(temperatureOk(t), String(t));
  const bad = [0.001, 0.00999, 5e-324, -0.01, -1, 100.0001, 1e308, NaN, Infinity, -Infinity];
  for (const t of [...bad, '0.8', '0', null, undefined, true, 1n, [1]]) {
    assert.ok(!temperatureOk(t), String(t));
  }
  const options = { maxNewTokens: 10, temperature: 0.8, topK: null, topP: null };
  checkSampling(options);
  for (const temperature of bad) {
    assert.throws(() => checkSampling({ ...options, temperature }), {
      message: `temperature must be 0 (greedy) or a number from 0.01 to 100, got ${temperature}`,
    });
  }
});

test('the other knobs keep their ranges', () => {
  const options = { maxNewTokens: 10, temperature: 0.8, topK: null, topP: null };
  checkSampling({ ...options, topK: 1, topP: 1 });
  for (const maxNewTokens of [0, -1, 1.5, NaN]) {
    assert.throws(() => checkSampling({ ...options, maxNewTokens }), /length must be a whole number/);
  }
  for (const topK of [0, 1.5, NaN]) {
    assert.throws(() => checkSampling({ ...options, topK }), /top-k must be a whole number/);
  }
  for (const topP of [0, 1.01, NaN, '0.5']) {
    assert.throws(() => checkSampling({ ...options, topP }), /top-p must be in \(0, 1\]/);
  }
});
