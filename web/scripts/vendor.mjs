// Copy the onnxruntime-web files the page loads into web/vendor/, so the player is a
// plain static site: no bundler, no CDN. The wasm ES module bundle finds its .wasm
// beside itself (import.meta.url). Runs as npm's postinstall; safe to re-run.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FILES = ['ort.wasm.bundle.min.mjs', 'ort-wasm-simd-threaded.wasm'];
const from = new URL('../node_modules/onnxruntime-web/dist/', import.meta.url);
const to = new URL('../vendor/', import.meta.url);

mkdirSync(to, { recursive: true });
for (const name of FILES) copyFileSync(new URL(name, from), new URL(name, to));
console.log(`vendored ${FILES.join(', ')} into ${fileURLToPath(to)}`);
