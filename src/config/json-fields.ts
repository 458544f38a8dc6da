import { ZoneConfigError } from './config-error.js';

/**
 * A typed walk over parsed JSON that knows where it is, so every schema error names the file and
 * the JSON path. Numbers follow hvisor-tool's rules: a non-negative JSON integer, or a string read
 * like C's strtoumax(base 0) — "0x…" hex, a leading "0" octal, decimal otherwise — with no
 * trailing characters, range-checked against the field's width.
 */
export class JsonFields {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly value: unknown,
  ) {}

  fail(expected: string, subPath = ''): never {
    throw new ZoneConfigError(this.file, this.join(subPath), expected);
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

  boolean(): boolean {
    // cJSON's valueint reading lets 0/1 stand for false/true too.
    if (typeof this.value === 'boolean') return this.value;
    if (this.value === 0 || this.value === 1) return this.value === 1;
    this.fail(`expected true or false, got ${describe(this.value)}`);
  }

  /** An unsigned integer of `bits` width as a bigint. */
  u(bits: 8 | 16 | 32 | 64): bigint {
    const v = this.value;
    let n: bigint | undefined;
    if (typeof v === 'number') {
      if (Number.isInteger(v) && v >= 0) n = BigInt(v);
    } else if (typeof v === 'string') {
      n = parseCNumber(v);
    }
    if (n === undefined) {
      this.fail(`expected an unsigned integer (a number or a "0x…" string), got ${describe(v)}`);
    }
    if (n >= 1n << BigInt(bits)) this.fail(`${describe(v)} does not fit in ${bits} bits`);
    return n;
  }

  /** An unsigned integer that must also be exact as a JS number (addresses and sizes we model). */
  num(bits: 8 | 16 | 32 | 64 = 64): number {
    const n = this.u(bits);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${describe(this.value)} is beyond 2^53, which hvisor-ts models`);
    return Number(n);
  }

  private join(key: string): string {
    if (key === '') return this.path;
    if (key.startsWith('[')) return this.path + key;
    return this.path === '' ? key : `${this.path}.${key}`;
  }
}

/** strtoumax(s, 0) on the whole string, or undefined when it is not one number. */
export function parseCNumber(s: string): bigint | undefined {
  const t = s.trim();
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return BigInt(t);
  if (/^0[0-7]*$/.test(t)) return t.length === 1 ? 0n : BigInt('0o' + t.slice(1));
  if (/^[1-9][0-9]*$/.test(t)) return BigInt(t);
  return undefined;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}
