const HTML_UNSAFE = /[<>&\u2028\u2029]/;
const HTML_UNSAFE_ALL = /[<>&\u2028\u2029]/g;
const HTML_ESCAPES: Readonly<Record<string, string>> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/**
 * A string as a JSON string literal the way Go's encoding/json writes it (etcd's gateway answers
 * through it): like JSON.stringify, and with <, > and & (and U+2028, U+2029) escaped as \u00XX.
 */
export function goJsonString(value: string): string {
  const quoted = JSON.stringify(value);
  return HTML_UNSAFE.test(quoted) ? quoted.replace(HTML_UNSAFE_ALL, (c) => HTML_ESCAPES[c]!) : quoted;
}
