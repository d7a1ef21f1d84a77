/**
 * A sup bundle on the web: manifest.json and the files it lists, each checked before
 * anything uses it. The manifest is checked against the registry's sha256 when one is
 * given, every file against the manifest's sha256 and size, so a corrupt, partial or
 * swapped file is refused with a message that names it. Files are fetched only when
 * asked for: the page never downloads the full-context graph it does not run.
 */

const FORMAT = 'sup-bundle';
const VERSION = 1;

export class Bundle {
  /**
   * @param {string} url the bundle directory, ending in '/'
   * @param {{manifestSha256?: string|null}} options the registry's sha256 of manifest.json
   */
  static async open(url, { manifestSha256 = null } = {}) {
    const bytes = await fetchBytes(new URL('manifest.json', url));
    if (manifestSha256 && (await sha256Hex(bytes)) !== manifestSha256) {
      throw new Error(`${url}manifest.json does not match the registry's sha256`);
    }
    return new Bundle(url, parseManifest(bytes, url));
  }

  constructor(url, manifest) {
    this.url = url;
    this.manifest = manifest;
  }

  /** The verified bytes of one file the manifest lists. */
  async file(name) {
    const entry = this.manifest.files.find((f) => f.name === name);
    if (!entry) throw new Error(`${this.url}manifest.json does not list ${name}`);
    const bytes = await fetchBytes(new URL(name, this.url));
    if (bytes.length !== entry.size || (await sha256Hex(bytes)) !== entry.sha256) {
      throw new Error(`${this.url}${name} does not match its sha256 in the manifest`);
    }
    return bytes;
  }
}

function parseManifest(bytes, url) {
  let manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(`${url}manifest.json is not valid JSON`);
  }
  if (manifest?.format !== FORMAT || manifest.version !== VERSION) {
    throw new Error(`${url}manifest.json is not a version ${VERSION} ${FORMAT} manifest`);
  }
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
