/**
 * Strings and URLs from a registry or a bundle are untrusted input: anyone can host a
 * registry, and its manifests, tokenizers and graphs come from wherever it points. This
 * module holds the few rules that make such values safe to show, to quote in a message
 * and to follow. It touches no DOM and no network, so the page, the worker and the node
 * unit tests share it.
 *
 * Showing: the page only ever sets untrusted text with textContent (or a form field's
 * value), never innerHTML, so markup stays text. That is not enough for characters
 * that act on whoever reads or copies the text: an ESC sequence pasted into a terminal
 * clears it, sets its title or writes the clipboard (OSC 52), and a bidi override makes
 * text read differently from what it is. `visible` spells those characters out.
 */

/**
 * The characters `visible` escapes: C0 controls except tab and newline, DEL, the C1
 * controls (U+0080-U+009F, which include a one-character CSI, U+009B) and the bidi
 * embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// The same, and tab and newline too: a quoted value keeps a message on one line.
const UNSAFE_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every unsafe character written as an escape, spelled as the Python
 * players print it (sup/formats/printable.py), so a terminal and the page show the same
 * thing: `\xHH` below U+0100 (ESC becomes the four characters `\x1b`, the C1 CSI
 * `\x9b`), `\uHHHH` above (`\u202e`), lowercase hex. Escapes rather than Unicode's
 * control pictures (U+2400-U+2421), which cover only C0 and DEL. The result is still to
 * be set with textContent: this does nothing about markup, which is inert there.
 * @param {unknown} text any value; non-strings are shown as String(value)
 * @returns {string}
 */
export function visible(text) {
  return String(text).replace(UNSAFE, escape);
}

function escape(ch) {
  const code = ch.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * An untrusted value for a one-line message, cut to `limit` characters: a string in
 * double quotes (so it is told from a number) with unsafe characters, tab and newline
 * escaped as `visible` spells them; anything else as JSON. The page still passes the
 * whole message through `visible`.
 * @param {unknown} value
 * @param {number} [limit]
 * @returns {string}
 */
export function quote(value, limit = 80) {
  let text;
  if (typeof value === 'string') {
    text = `"${value.replace(UNSAFE_IN_LINE, escape)}"`;
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value); // a BigInt or a cycle: not from JSON, but never throw here
    }
  }
  return text.length <= limit ? text : `${text.slice(0, limit - 3)}...`;
}

/**
 * `ref` resolved against `base` if the result is an http: or https: URL, else null.
 *
 * Only these two schemes may become a link or a fetch: javascript: (and vbscript:) run
 * script on this page's origin when clicked, data: and blob: show content the registry
 * made up under this page's name, file: reaches the reader's disk. The scheme is read
 * from the parsed URL, not the string, because the URL parser strips leading spaces
 * and C0 controls and drops tabs and newlines anywhere ("java\tscript:" is javascript:).
 * @param {unknown} ref a URL or a relative reference, from untrusted input
 * @param {string|URL} base what a relative `ref` is resolved against
 * @returns {URL|null}
 */
export function httpUrl(ref, base) {
  if (typeof ref !== 'string' || ref === '') return null;
  let url;
  try {
    url = new URL(ref, base);
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
}
