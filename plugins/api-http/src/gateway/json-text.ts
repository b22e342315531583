/**
 * A JSON value as the gateway's codec reads it: numbers keep their source text (an int64 such as
 * 9007199254740993 must not pass through a double), and an object keeps the last value of a
 * repeated key, as Go's encoding/json does.
 */
export type JsonValue =
  | { readonly kind: 'object'; readonly members: ReadonlyMap<string, JsonValue> }
  | { readonly kind: 'array'; readonly items: readonly JsonValue[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' };

/**
 * Malformed JSON, worded as Go's encoding/json words it (etcd's gateway answers with that text).
 * `truncated`: the text ended inside a value, so a stream may still complete it.
 */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly truncated: boolean,
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

/** How Go's scanner quotes the offending character (its first UTF-8 byte). */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  const code = c.charCodeAt(0);
  if (code >= 0x80) return `'\\x${Buffer.from(c, 'utf8')[0]!.toString(16).padStart(2, '0')}'`;
  const quoted = JSON.stringify(c);
  return `'${quoted.slice(1, -1)}'`;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/** A recursive-descent reader of one JSON value at a time from a text. */
class JsonReader {
  pos = 0;

  constructor(private readonly text: string) {}

  private fail(context: string): never {
    if (this.pos >= this.text.length) throw new JsonSyntaxError('unexpected EOF', true);
    throw new JsonSyntaxError(`invalid character ${quoteChar(this.char())} ${context}`, false);
  }

  private char(): string {
    const code = this.text.codePointAt(this.pos)!;
    return String.fromCodePoint(code);
  }

  skipWhitespace(): void {
    WHITESPACE.lastIndex = this.pos;
    WHITESPACE.exec(this.text);
    this.pos = WHITESPACE.lastIndex;
  }

  get atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  value(): JsonValue {
    this.skipWhitespace();
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return { kind: 'string', value: this.string() };
      case 't':
        return this.literal('true', { kind: 'bool', value: true });
      case 'f':
        return this.literal('false', { kind: 'bool', value: false });
      case 'n':
        return this.literal('null', { kind: 'null' });
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        return this.fail('looking for beginning of value');
    }
  }

  private object(): JsonValue {
    const members = new Map<string, JsonValue>();
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return { kind: 'object', members };
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.fail('looking for beginning of object key string');
      const key = this.string();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail('after object key');
      this.pos++;
      members.set(key, this.value());
      this.skipWhitespace();
      const next = this.text[this.pos];
      this.pos++;
      if (next === '}') return { kind: 'object', members };
      if (next !== ',') {
        this.pos--;
        this.fail('after object key:value pair');
      }
    }
  }

  private array(): JsonValue {
    const items: JsonValue[] = [];
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return { kind: 'array', items };
    }
    for (;;) {
      items.push(this.value());
      this.skipWhitespace();
      const next = this.text[this.pos];
      this.pos++;
      if (next === ']') return { kind: 'array', items };
      if (next !== ',') {
        this.pos--;
        this.fail('after array element');
      }
    }
  }

  private string(): string {
    const start = ++this.pos;
    // The common case, no escapes: one slice.
    for (let i = start; i < this.text.length; i++) {
      const code = this.text.charCodeAt(i);
      if (code === 0x22) {
        this.pos = i + 1;
        return this.text.slice(start, i);
      }
      if (code === 0x5c || code < 0x20) break;
    }
    let out = '';
    for (;;) {
      if (this.pos >= this.text.length) this.fail('in string literal');
      const code = this.text.charCodeAt(this.pos);
      if (code === 0x22) {
        this.pos++;
        return out;
      }
      if (code < 0x20) this.fail('in string literal');
      if (code !== 0x5c) {
        out += this.text[this.pos++];
        continue;
      }
      this.pos++;
      const escape = this.text[this.pos];
      const simple = escape === undefined ? undefined : SIMPLE_ESCAPES[escape];
      if (simple !== undefined) {
        out += simple;
        this.pos++;
      } else if (escape === 'u') {
        this.pos++;
        const hex = this.text.slice(this.pos, this.pos + 4);
        for (let i = 0; i < 4; i++) {
          if (!/[0-9a-fA-F]/.test(hex[i] ?? '')) {
            this.pos += i;
            this.fail('in \\u hexadecimal character escape');
          }
        }
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 4;
      } else {
        this.fail('in string escape code');
      }
    }
  }

  private literal(word: string, value: JsonValue): JsonValue {
    for (let i = 1; i < word.length; i++) {
      if (this.text[this.pos + i] !== word[i]) {
        this.pos += i;
        this.fail(`in literal ${word} (expecting ${quoteChar(word[i]!)})`);
      }
    }
    this.pos += word.length;
    return value;
  }

  private number(): JsonValue {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    const text = match?.[0] ?? '';
    // Where the grammar stopped short: Go names the character it could not take.
    if (text === '' || text === '-') {
      this.pos += text.length;
      this.fail('in numeric literal');
    }
    const end = this.pos + text.length;
    const after = this.text[end];
    if (after === '.' || after === 'e' || after === 'E') {
      this.pos = end + 1;
      this.fail(after === '.' ? 'after decimal point in numeric literal' : 'in exponent of numeric literal');
    }
    this.pos = end;
    return { kind: 'number', text };
  }
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * The first JSON value of `text` and where it ends, as Go's json.Decoder reads the next value of
 * a stream: whatever follows it is left for the next read. Undefined when `text` holds only
 * whitespace (an empty body is an empty message, as etcd's gateway takes it).
 */
export function readJsonValue(text: string, from = 0): { readonly value: JsonValue; readonly end: number } | undefined {
  const reader = new JsonReader(text);
  reader.pos = from;
  reader.skipWhitespace();
  if (reader.atEnd) return undefined;
  const value = reader.value();
  return { value, end: reader.pos };
}

/** A whole text as one JSON value (nothing but whitespace after it), as json.Unmarshal reads it. */
export function parseJsonText(text: string): JsonValue {
  const reader = new JsonReader(text);
  reader.skipWhitespace();
  if (reader.atEnd) throw new JsonSyntaxError('unexpected end of JSON input', true);
  let value: JsonValue;
  try {
    value = reader.value();
  } catch (err) {
    if (err instanceof JsonSyntaxError && err.truncated) throw new JsonSyntaxError('unexpected end of JSON input', true);
    throw err;
  }
  reader.skipWhitespace();
  if (!reader.atEnd) throw new JsonSyntaxError(`invalid character ${quoteChar(text[reader.pos]!)} after top-level value`, false);
  return value;
}
