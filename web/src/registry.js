/**
 * Reading a registry (registry.json), which is untrusted input: anyone can host one,
 * and the page may be pointed at any of them with ?registry=URL. The rules are the
 * Python reader's (sup/formats/registry.py parse_registry and check_entry, with the
 * patterns of sup/formats/schema.py): the format and version, entries that are objects,
 * and, before an entry is used, an id, a bundle path and a manifest sha256 that match
 * the schema's patterns. Only an http(s) card URL becomes a link. No DOM here: the page
 * shows what these return with textContent, through untrusted.js `visible`.
 */

import { httpUrl, quote } from './untrusted.js';

const FORMAT = 'sup-registry';
const VERSION = 1;
// sup/formats/schema.py BUNDLE_ID, BUNDLE_PATH, SHA256 and MAX_ID_LENGTH.
const BUNDLE_ID = /^[a-z0-9][a-z0-9_.]*(-[a-z0-9_.]+)*$/;
const BUNDLE_PATH = /^[a-z0-9][a-z0-9_.-]*\/$/;
const SHA256 = /^[0-9a-f]{64}$/;
const MAX_ID_LENGTH = 100;

/**
 * The registry's model entries, after the checks every reader relies on.
 * @param {unknown} registry parsed registry.json
 * @param {string} where the registry's URL, for messages
 * @returns {object[]} its entries (each still to pass `checkEntry` before use)
 */
export function registryModels(registry, where) {
  if (registry?.format !== FORMAT || registry.version !== VERSION) {
    throw new Error(`${where} is not a version ${VERSION} sup registry`);
  }
  const { models } = registry;
  if (!Array.isArray(models)) throw new Error(`${where} has malformed model entries`);
  if (!models.length) throw new Error(`${where} lists no models`);
  if (!models.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e))) {
    throw new Error(`${where} has malformed model entries`);
  }
  return models;
}

/**
 * Check the entry's values that become a URL or a comparison, and return its bundle's
 * URL: the path (one plain directory name and a "/", as in Python) resolved against
 * the registry's URL, which must then be http(s).
 * @param {object} entry one of `registryModels`
 * @param {string|URL} registryUrl
 * @returns {{url: string, manifestSha256: string}}
 */
export function checkEntry(entry, registryUrl) {
  const rules = [
    ['id', BUNDLE_ID, MAX_ID_LENGTH],
    ['path', BUNDLE_PATH, MAX_ID_LENGTH + 1],
    ['manifest_sha256', SHA256, 64],
  ];
  for (const [key, pattern, limit] of rules) {
    const value = entry[key];
    if (typeof value !== 'string' || !pattern.test(value) || value.length > limit) {
      const why = `a model entry has a bad ${key} ${quote(value)}; refusing it`;
      throw new Error(`${registryUrl}: ${why}`);
    }
  }
  const url = httpUrl(entry.path, registryUrl);
  if (!url) throw new Error(`${registryUrl}: model ${entry.id} is not at an http(s) URL`);
  return { url: url.href, manifestSha256: entry.manifest_sha256 };
}

/**
 * The entry's model card as an http(s) URL (a relative one resolved against the
 * registry's URL), or null: no card, or one that must not become a link.
 * @param {object} entry
 * @param {string|URL} registryUrl
 * @returns {URL|null}
 */
export function cardUrl(entry, registryUrl) {
  return httpUrl(entry?.card, registryUrl);
}

/**
 * One line per release in the menu: id, size in parameters and bytes, tokenizer,
 * precision. Every field is untrusted and may be missing or of the wrong type; the
 * line is plain text, for textContent through `visible`.
 * @param {object} entry
 * @returns {string}
 */
export function describe(entry) {
  const { id, params, size, tokenizer, precision } = entry;
  const count = !isCount(params)
    ? '?'
    : params >= 1e6
      ? `${(params / 1e6).toFixed(1)}M`
      : `${Math.round(params / 1e3)}k`;
  const megabytes = isCount(size) ? (size / 1e6).toFixed(1) : '?';
  return `${id} · ${count} params · ${tokenizer?.type} · ${precision} · ${megabytes} MB`;
}

function isCount(value) {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
