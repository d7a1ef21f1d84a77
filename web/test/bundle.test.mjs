// Bundle fetching refuses anything that does not match its checksums, naming the file,
// and never fetches a file outside the bundle's own http(s) directory.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import { Bundle } from '../src/bundle.js';

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const entry = (name, data) => ({ name, sha256: sha256(data), size: Buffer.byteLength(data) });

const graph = Buffer.from('not really onnx, but bytes all the same');
const manifest = JSON.stringify({
  format: 'sup-bundle',
  version: 1,
  files: [entry('model.kv.onnx', graph), entry('short.onnx', graph)],
});
// Names a manifest may not use for a file, each of them listed with the right sha256
// of a real file outside the bundle, so only the name is wrong.
const BAD_NAMES = [
  '../secret.onnx',
  '../good/model.kv.onnx',
  '/secret.onnx',
  '//127.0.0.1/secret.onnx',
  'http://127.0.0.1/secret.onnx',
  'javascript:alert(1)',
  'sub/model.onnx',
  'sub\\model.onnx',
  '..',
  '.hidden',
  '%2e%2e/secret.onnx',
  'model.onnx\n',
  ' model.onnx',
  '',
  'manifest.json',
  'a'.repeat(201),
  42,
  null,
];
const badManifest = (name) =>
  JSON.stringify({ format: 'sup-bundle', version: 1, files: [{ ...entry('x', graph), name }] });
const FILES = {
  '/good/manifest.json': manifest,
  '/good/model.kv.onnx': graph,
  '/good/short.onnx': graph.subarray(1),
  '/other/manifest.json': JSON.stringify({ format: 'something-else', version: 1 }),
  '/secret.onnx': graph,
  '/dup/manifest.json': JSON.stringify({
    format: 'sup-bundle',
    version: 1,
    files: [entry('model.kv.onnx', graph), entry('model.kv.onnx', graph)],
  }),
  '/nosha/manifest.json': JSON.stringify({
    format: 'sup-bundle',
    version: 1,
    files: [{ ...entry('model.kv.onnx', graph), sha256: 'ABC' }],
  }),
  ...Object.fromEntries(BAD_NAMES.map((name, i) => [`/bad${i}/manifest.json`, badManifest(name)])),
};

let server;
let base;
const requested = [];
before(async () => {
  server = createServer((req, res) => {
    requested.push(req.url);
    const body = FILES[req.url];
    res.writeHead(body === undefined ? 404 : 200);
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

test('a file that matches its manifest entry comes back', async () => {
  const bundle = await Bundle.open(`${base}/good/`, { manifestSha256: sha256(manifest) });
  assert.deepEqual(Buffer.from(await bundle.file('model.kv.onnx')), graph);
});

test('a manifest that differs from the registry is refused', async () => {
  await assert.rejects(
    Bundle.open(`${base}/good/`, { manifestSha256: '0'.repeat(64) }),
    /manifest.json does not match the registry's sha256/,
  );
});

test('a truncated file and an unlisted file are refused by name', async () => {
  const bundle = await Bundle.open(`${base}/good/`);
  await assert.rejects(bundle.file('short.onnx'), /short.onnx does not match its sha256/);
  await assert.rejects(bundle.file('model.onnx'), /does not list "model.onnx"/);
});

test('a missing bundle or a foreign manifest says so', async () => {
  await assert.rejects(Bundle.open(`${base}/missing/`), /HTTP 404/);
  await assert.rejects(Bundle.open(`${base}/other/`), /not a version 1 sup-bundle manifest/);
});

test('a manifest naming a file by anything but a plain name is refused at open', async () => {
  for (const [i, name] of BAD_NAMES.entries()) {
    requested.length = 0;
    await assert.rejects(
      Bundle.open(`${base}/bad${i}/`),
      (e) => /bad file name .* in the manifest.*; refusing the bundle$/.test(e.message),
      `file name ${JSON.stringify(name)}`,
    );
    assert.deepEqual(requested, [`/bad${i}/manifest.json`], `fetched for ${JSON.stringify(name)}`);
  }
});

test('a file list with a repeated name or a bad sha256 is refused at open', async () => {
  await assert.rejects(Bundle.open(`${base}/dup/`), /bad file name "model.kv.onnx"/);
  await assert.rejects(Bundle.open(`${base}/nosha/`), /model.kv.onnx has no valid sha256/);
});

test('a bundle is only opened from an http(s) directory URL', async () => {
  const urls = [
    'data:application/json,{}/',
    'javascript:alert(1)//',
    'file:///etc/',
    'blob:http://127.0.0.1/x/',
    `${base}/good`, // not a directory: names would resolve beside it
    `${base}/good/?q=1`,
    '',
  ];
  for (const url of urls) {
    await assert.rejects(Bundle.open(url), /is not an http\(s\) directory URL/, url);
  }
});
