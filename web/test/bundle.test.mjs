// Bundle fetching refuses anything that does not match its checksums, naming the file.
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
const FILES = {
  '/good/manifest.json': manifest,
  '/good/model.kv.onnx': graph,
  '/good/short.onnx': graph.subarray(1),
  '/other/manifest.json': JSON.stringify({ format: 'something-else', version: 1 }),
};

let server;
let base;
before(async () => {
  server = createServer((req, res) => {
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
  await assert.rejects(bundle.file('model.onnx'), /does not list model.onnx/);
});

test('a missing bundle or a foreign manifest says so', async () => {
  await assert.rejects(Bundle.open(`${base}/missing/`), /HTTP 404/);
  await assert.rejects(Bundle.open(`${base}/other/`), /not a version 1 sup-bundle manifest/);
});
