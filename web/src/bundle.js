/**
 * A sup bundle on the web: manifest.json and the files it lists, each checked before
 * anything uses it. The manifest is checked against the registry's sha256 when one is
 * given, every file against the manifest's sha256 and size, so a corrupt, partial or
 * swapped file is refused with a message that names it. Files are fetched only when
 * asked for: the page never downloads the full-context graph it does not run.
 *
 * The manifest is untrusted (anyone can host a registry), so only files it lists, by
 * plain names (manifest.js checkFiles), are ever fetched, and only from the bundle's
 * own http(s) directory: a name such as "../other/model.onnx", "/x" or a URL is
 * refused when the bundle is opened, before any file is fetched.
 */

import { checkFiles, MANIFEST } from './manifest.js';
import { httpUrl, quote } from './untrusted.js';

const FORMAT = 'sup-bundle';
const VERSION = 1;

export class Bundle {
  /**
   * @param {string} url the bundle directory, ending in '/'
   * @param {{manifestSha256?: string|null}} options the registry's sha256 of manifest.json
   */
  static async open(url, { manifestSha256 = null } = {}) {
    const dir = bundleDir(url);
    const bytes = await fetchBytes(new URL(MANIFEST, dir));
    if (manifestSha256 && (await sha256Hex(bytes)) !== manifestSha256) {
      throw new Error(`${dir}${MANIFEST} does not match the registry's sha256`);
    }
    return new Bundle(dir, parseManifest(bytes, dir));
  }

  constructor(url, manifest) {
    this.url = url;
    this.manifest = manifest;
  }

  /**
   * The verified bytes of one file the manifest lists. Listed names passed checkFiles
   * at open, so the file's URL is inside the bundle's directory; that is checked again
   * here, as it is what keeps a hostile manifest from reading other files.
   */
  async file(name) {
    const entry = this.manifest.files.find((f) => f.name === name);
    if (!entry) throw new Error(`${this.url}${MANIFEST} does not list ${quote(name)}`);
    const url = new URL(name, this.url);
    if (url.href !== this.url + name) {
      throw new Error(`${this.url}${MANIFEST}: ${quote(name)} is not a file of this bundle`);
    }
    const bytes = await fetchBytes(url);
    if (bytes.length !== entry.size || (await sha256Hex(bytes)) !== entry.sha256) {
      throw new Error(`${this.url}${name} does not match its sha256 in the manifest`);
    }
    return bytes;
  }
}

/**
 * The bundle's directory as an http(s) URL string ending in "/": relative file names
 * resolve inside it, and no other scheme (data:, blob:, file:) is ever fetched.
 */
function bundleDir(url) {
  const dir = httpUrl(String(url), globalThis.location?.href);
  if (!dir || !dir.pathname.endsWith('/') || dir.search || dir.hash) {
    const shown = quote(String(url));
    throw new Error(`the bundle URL ${shown} is not an http(s) directory URL ending in /`);
  }
  return dir.href;
}

/** The manifest's JSON, checked for what every reader relies on (as Python's parse_manifest). */
function parseManifest(bytes, url) {
  let manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(`${url}${MANIFEST} is not valid JSON`);
  }
  if (manifest?.format !== FORMAT || manifest.version !== VERSION) {
    throw new Error(`${url}${MANIFEST} is not a version ${VERSION} ${FORMAT} manifest`);
  }
  checkFiles(manifest, `${url}${MANIFEST}`);
  return manifest;
}

async function fetchBytes(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`cannot fetch ${url}: ${e.message}`);
  }
  if (!response.ok) throw new Error(`cannot fetch ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Browsers give crypto.subtle only to secure pages (https:// or localhost). */
async function sha256Hex(bytes) {
  if (!globalThis.crypto?.subtle) {
    throw new Error('checking a bundle needs an https:// or localhost page (crypto.subtle)');
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
