import { CONFIG_FILE_MAX_BYTES, InputFileError, readInputFileSync, type InputReader } from '../util/input-file.js';
import { jsonSyntaxProblem } from '../util/json-syntax.js';
import { ConfigError } from './config-error.js';

/** cJSON's valueint saturates here (cJSON.c: `if (number >= INT_MAX) item->valueint = INT_MAX`). */
const INT_MAX = 2147483647;
const U64_MAX = (1n << 64n) - 1n;

/**
 * A typed walk over parsed JSON that knows where it is, so every schema error is a ConfigError
 * naming the file and the JSON path. Every configuration format reads its numbers here, with
 * hvisor-tool's grammar (tools/json_parse.c, `parse_json_u64`/`_u32`/`_u8`/`_address`/`_size`):
 * - a JSON number is taken as cJSON's `valueint`, refused when negative;
 * - a string goes through `strtoumax(s, &end, 0)` and must be consumed whole: optional leading
 *   white space and sign, then "0x"/"0X" and hex digits, a leading "0" and octal digits, or
 *   decimal digits. So "010" is 8, "0x10" and "16" are 16; "08", "0x", "16 ", "" and anything
 *   beyond 2^64 - 1 (ERANGE) are refused;
 * - the value must fit the field's width.
 * Where hvisor-tool would silently change the value we refuse it instead, naming it: a JSON
 * number with a fraction or above INT_MAX (valueint truncates and saturates: 1.5 reads as 1,
 * 3000000000 as 2147483647), a negative string (strtoumax wraps "-1" to 2^64 - 1), and a string
 * with a NUL (C reads up to it: "16\u0000x" is 16 there).
 * test/config/number-grammar.test.ts checks this against hvisor-tool's json_parse.c itself.
 */
export class JsonFields {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly value: unknown,
  ) {}

  fail(expected: string, subPath = ''): never {
    throw new ConfigError(this.file, this.join(subPath), expected);
  }

  /** The object at this position (or a failure naming the path). */
  object(): Record<string, unknown> {
    const v = this.value;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(`expected an object, got ${describe(v)}`);
    return v as Record<string, unknown>;
  }

  has(key: string): boolean {
    return this.object()[key] !== undefined;
  }

  field(key: string): JsonFields {
    const obj = this.object();
    if (obj[key] === undefined) this.fail(`missing required field "${key}"`);
    return new JsonFields(this.file, this.join(key), obj[key]);
  }

  optionalField(key: string): JsonFields | undefined {
    const obj = this.object();
    return obj[key] === undefined ? undefined : new JsonFields(this.file, this.join(key), obj[key]);
  }

  isArray(): boolean {
    return Array.isArray(this.value);
  }

  items(): JsonFields[] {
    if (!Array.isArray(this.value)) this.fail(`expected a list, got ${describe(this.value)}`);
    return this.value.map((v, i) => new JsonFields(this.file, `${this.path}[${i}]`, v));
  }

  string(): string {
    if (typeof this.value !== 'string') this.fail(`expected a string, got ${describe(this.value)}`);
    return this.value;
  }

  /** A string that must not be empty (paths, names). */
  nonEmptyString(what: string): string {
    const s = this.string();
    if (s === '') this.fail(`expected ${what}, got ""`);
    return s;
  }

  boolean(): boolean {
    // cJSON's valueint reading lets 0/1 stand for false/true too.
    if (typeof this.value === 'boolean') return this.value;
    if (this.value === 0 || this.value === 1) return this.value === 1;
    this.fail(`expected true or false, got ${describe(this.value)}`);
  }

  /** An unsigned integer of `bits` width as a bigint, read as hvisor-tool's parse_json_* do. */
  u(bits: 8 | 16 | 32 | 64): bigint {
    const v = this.value;
    let n: bigint | undefined;
    if (typeof v === 'number') {
      if (v > INT_MAX && Number.isInteger(v)) {
        this.fail(`${v} is above ${INT_MAX}, which hvisor-tool's cJSON reads as ${INT_MAX}: write it as a string ("0x${v.toString(16)}")`);
      }
      n = jsonInteger(v);
    } else if (typeof v === 'string') {
      n = parseCNumber(v);
    }
    if (n === undefined) this.fail(`expected an unsigned integer (a number or a "0x…" string), got ${describe(v)}`);
    if (n >= 1n << BigInt(bits)) this.fail(`${describe(v)} does not fit in ${bits} bits`);
    return n;
  }

  /** An unsigned integer that must also be exact as a JS number (addresses and sizes we model). */
  num(bits: 8 | 16 | 32 | 64 = 64): number {
    const n = this.u(bits);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${describe(this.value)} is beyond 2^53, which hvisor-ts models`);
    return Number(n);
  }

  /**
   * A field hvisor-tool reads as cJSON's `valueint` itself, without json_parse.c (zone_id, cpus,
   * ivc_id, peer_id, interrupt_num, max_peers): only a JSON number means its value there (a string
   * reads as 0), so only a non-negative JSON integer is accepted.
   */
  int(): number {
    const v = this.value;
    if (typeof v === 'string') {
      this.fail(`expected an unsigned integer written as a JSON number (hvisor-tool reads this field as cJSON's valueint, which is 0 for a string), got ${describe(v)}`);
    }
    const n = typeof v === 'number' ? jsonInteger(v) : undefined;
    if (n === undefined) this.fail(`expected an unsigned integer (a JSON number), got ${describe(v)}`);
    return Number(n);
  }

  private join(key: string): string {
    if (key === '') return this.path;
    if (key.startsWith('[')) return this.path + key;
    return this.path === '' ? key : `${this.path}.${key}`;
  }
}

/** A JSON number cJSON's valueint keeps unchanged: an integer 0..INT_MAX (-0 is 0). */
function jsonInteger(v: number): bigint | undefined {
  return Number.isInteger(v) && v >= 0 && v <= INT_MAX ? BigInt(v) : undefined;
}

/**
 * strtoumax(s, &end, 0) consuming the whole string (glibc, C locale), or undefined where
 * hvisor-tool's parse_json_number_string fails or strtoumax would wrap a negative number.
 */
export function parseCNumber(s: string): bigint | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (m === null) return undefined;
  const digits = m[2]!;
  const n = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits[0] === '0' ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
  if (n > U64_MAX) return undefined;
  if (m[1] === '-' && n !== 0n) return undefined;
  return n;
}

/** Parses JSON text; `file` names it in the ConfigError a syntax error becomes (which never quotes the text). */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, '', jsonSyntaxProblem(text, e));
  }
}

/**
 * Reads and parses a JSON configuration file: a regular file of at most 1 MiB (`what` names it in
 * errors: "zone config", "virtio config"); `read` may hand over a file read elsewhere.
 */
export function loadJson(file: string, what: string, read: InputReader = readInputFileSync): unknown {
  let text: string;
  try {
    text = new TextDecoder().decode(read(file, { what, maxBytes: CONFIG_FILE_MAX_BYTES }));
  } catch (e) {
    throw new ConfigError(file, '', e instanceof InputFileError ? e.reason : `cannot read the ${what} (${(e as Error).message})`);
  }
  return parseJson(text, file);
}

/** How an error shows a value it refused: JSON-escaped (no control characters) and at most 40 characters of a string. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string' && v.length > 40) return JSON.stringify(v.slice(0, 40)).slice(0, -1) + `…" (${v.length} characters)`;
  return JSON.stringify(v);
}
