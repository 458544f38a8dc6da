/**
 * Character-level reading of DTS text with positions for errors, and dtc's lexical rules:
 * comments, cpp line markers, `/include/` (an input stack), escapes, integer and character
 * literals.
 */
import { DtbError } from '../errors.js';

/** A compile error naming file:line:column. */
export class DtsError extends DtbError {
  constructor(message: string, readonly file: string, readonly line: number, readonly column: number) {
    super(message, { path: `${file}:${line}:${column}` });
    this.name = 'DtsError';
  }
}

/** How the compiler reads `/include/` and `/incbin/` files. */
export interface SourceFiles {
  /** Resolves `name` as written, relative to the including file; returns the resolved name and text/bytes. */
  read(name: string, includedFrom: string): { readonly name: string; readonly bytes: Uint8Array };
}

interface Frame {
  readonly file: string;
  readonly text: string;
  pos: number;
  /** cpp line markers seen so far: from `pos` on, text is line `line` of `file`. */
  readonly markers: { readonly pos: number; readonly line: number; readonly file: string }[];
}

/** Makes the error for a place remembered with `Source.here()`. */
export type Where = (message: string) => DtsError;

/** The error at offset `at` of a frame, in original-file terms when cpp line markers say so. */
function errorIn(frame: Frame, message: string, at: number): DtsError {
  const { text } = frame;
  let file = frame.file;
  let line = 1;
  let lineStart = 0;
  let from = 0;
  for (let m = frame.markers.length - 1; m >= 0; m--) {
    const marker = frame.markers[m]!;
    if (marker.pos > at) continue;
    file = marker.file;
    line = marker.line;
    lineStart = from = marker.pos;
    break;
  }
  for (let i = from; i < at && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return new DtsError(message, file, line, at - lineStart + 1);
}

const MAX_INCLUDE_DEPTH = 32;
const LINE_MARKER = /^#[ \t]*(?:line[ \t]+)?(\d+)(?:[ \t]+"((?:[^"\\\n]|\\.)*)")?/;

export const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NAME_CHARS = /[a-zA-Z0-9,._+*#?@-]*/y;
const INTEGER = /(0[xX][0-9a-fA-F]+|[0-9]+)(U|L|UL|LL|ULL)?(?![0-9a-zA-Z_])/y;

export class Source {
  private readonly stack: Frame[];

  constructor(text: string, file: string, private readonly files: SourceFiles | undefined) {
    this.stack = [{ file, text, pos: 0, markers: [] }];
  }

  private get top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  get file(): string {
    return this.top.file;
  }

  /** An error at the current position (or at `at` in the current file). */
  error(message: string, at = this.top.pos): DtsError {
    return errorIn(this.top, message, at);
  }

  /** The current place (file and offset), to report an error there later. */
  here(at = this.top.pos): Where {
    const frame = this.top;
    return (message) => errorIn(frame, message, at);
  }


  get position(): number {
    return this.top.pos;
  }

  /** Skips whitespace, comments and cpp line markers; pops finished includes; expands `/include/`. */
  skip(): void {
    for (;;) {
      const f = this.top;
      const { text } = f;
      while (f.pos < text.length) {
        const c = text[f.pos]!;
        if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
          f.pos++;
        } else if (text.startsWith('/*', f.pos)) {
          const end = text.indexOf('*/', f.pos + 2);
          if (end < 0) throw this.error('unterminated comment');
          f.pos = end + 2;
        } else if (text.startsWith('//', f.pos)) {
          const end = text.indexOf('\n', f.pos);
          f.pos = end < 0 ? text.length : end + 1;
        } else if (c === '#' && (f.pos === 0 || text[f.pos - 1] === '\n') && /^#\s*(line\s+)?\d/.test(text.slice(f.pos, f.pos + 8))) {
          // A cpp line marker (`# 12 "board.dts"`): skipped as dtc does, kept for error positions.
          const end = text.indexOf('\n', f.pos);
          const m = LINE_MARKER.exec(text.slice(f.pos, end < 0 ? text.length : end));
          f.pos = end < 0 ? text.length : end + 1;
          if (m !== null) {
            const previous = f.markers[f.markers.length - 1]?.file ?? f.file;
            f.markers.push({ pos: f.pos, line: Number(m[1]), file: m[2] === undefined ? previous : m[2].replace(/\\(.)/g, '$1') });
          }
        } else if (c === '#' && /^#\s*include\b/.test(text.slice(f.pos, f.pos + 16))) {
          throw this.error('#include needs the C preprocessor (hvisor dtb runs cpp for such files; compileDtsFile has a cpp option)');
        } else if (text.startsWith('/include/', f.pos)) {
          f.pos += '/include/'.length;
          this.skip();
          const name = this.latin1String();
          this.include(name);
        } else {
          break;
        }
      }
      if (f.pos < text.length || this.stack.length === 1) return;
      this.stack.pop();
    }
  }

  private include(name: string): void {
    if (this.files === undefined) throw this.error(`/include/ "${name}": no file access was given to the compiler`);
    if (this.stack.length >= MAX_INCLUDE_DEPTH) throw this.error(`/include/ nested deeper than ${MAX_INCLUDE_DEPTH}`);
    let found: { name: string; bytes: Uint8Array };
    try {
      found = this.files.read(name, this.file);
    } catch (e) {
      throw this.error(`cannot include "${name}": ${e instanceof Error ? e.message : String(e)}`);
    }
    this.stack.push({ file: found.name, text: Buffer.from(found.bytes).toString('latin1'), pos: 0, markers: [] });
  }

  /** Reads a file's bytes for /incbin/. */
  readBinary(name: string): Uint8Array {
    if (this.files === undefined) throw this.error(`/incbin/ "${name}": no file access was given to the compiler`);
    try {
      return this.files.read(name, this.file).bytes;
    } catch (e) {
      throw this.error(`cannot read "${name}": ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  atEnd(): boolean {
    this.skip();
    return this.stack.length === 1 && this.top.pos >= this.top.text.length;
  }

  peek(offset = 0): string {
    return this.top.text[this.top.pos + offset] ?? '';
  }

  /** True (and consumed) if the text continues with `word`, after skipping trivia. */
  eat(word: string): boolean {
    this.skip();
    if (!this.top.text.startsWith(word, this.top.pos)) return false;
    this.top.pos += word.length;
    return true;
  }

  lookingAt(word: string): boolean {
    this.skip();
    return this.top.text.startsWith(word, this.top.pos);
  }

  expect(word: string, what = `'${word}'`): void {
    if (!this.eat(word)) throw this.error(`expected ${what}, found ${this.describeNext()}`);
  }

  describeNext(): string {
    const f = this.top;
    if (f.pos >= f.text.length) return 'end of input';
    return JSON.stringify(f.text.slice(f.pos, f.pos + 12).split('\n')[0]);
  }

  /** A run of node/property name characters (may be empty). Raw: no trivia skipped. */
  nameRun(): string {
    return this.run(NAME_CHARS);
  }

  /** Reads a run matching the sticky pattern `re` (e.g. /[a-z]*\/y) without skipping trivia. */
  run(re: RegExp): string {
    const f = this.top;
    re.lastIndex = f.pos;
    const m = re.exec(f.text);
    if (m === null) return '';
    f.pos += m[0].length;
    return m[0];
  }

  /** Moves back to `pos` in the current file (only within one frame). */
  rewind(pos: number): void {
    this.top.pos = pos;
  }

  /** A double-quoted string literal's bytes (escapes decoded, no terminating NUL). */
  stringBytes(): number[] {
    this.skip();
    const f = this.top;
    if (f.text[f.pos] !== '"') throw this.error(`expected a string, found ${this.describeNext()}`);
    const start = f.pos;
    f.pos++;
    const out: number[] = [];
    for (;;) {
      if (f.pos >= f.text.length) throw this.error('unterminated string', start);
      const c = f.text[f.pos]!;
      if (c === '"') {
        f.pos++;
        return out;
      }
      if (c === '\\') out.push(this.escape());
      else {
        out.push(c.charCodeAt(0) & 0xff);
        f.pos++;
      }
    }
  }

  private latin1String(): string {
    return String.fromCharCode(...this.stringBytes());
  }

  /** Decodes one escape at a backslash, as dtc's get_escape_char does. */
  private escape(): number {
    const f = this.top;
    f.pos++; // the backslash
    const c = f.text[f.pos];
    if (c === undefined) throw this.error('escape at end of input');
    f.pos++;
    switch (c) {
      case 'a': return 7;
      case 'b': return 8;
      case 't': return 9;
      case 'n': return 10;
      case 'v': return 11;
      case 'f': return 12;
      case 'r': return 13;
      case 'x': {
        const digits = /^[0-9a-fA-F]{1,2}/.exec(f.text.slice(f.pos, f.pos + 2));
        if (digits === null) throw this.error('\\x without hex digits');
        f.pos += digits[0].length;
        return parseInt(digits[0], 16);
      }
      default:
        if (c >= '0' && c <= '7') {
          const digits = /^[0-7]{1,3}/.exec(f.text.slice(f.pos - 1, f.pos + 2))![0];
          f.pos += digits.length - 1;
          return parseInt(digits, 8) & 0xff;
        }
        return c.charCodeAt(0) & 0xff;
    }
  }

  /** A character literal 'c' (with escapes): exactly one character. */
  charLiteral(): bigint {
    const f = this.top;
    const start = f.pos;
    f.pos++; // opening quote
    const chars: number[] = [];
    while (f.text[f.pos] !== "'") {
      if (f.pos >= f.text.length || f.text[f.pos] === '\n') throw this.error('unterminated character literal', start);
      if (f.text[f.pos] === '\\') chars.push(this.escape());
      else chars.push(f.text.charCodeAt(f.pos++) & 0xff);
    }
    f.pos++;
    if (chars.length !== 1) throw this.error(`character literal has ${chars.length} characters instead of 1`, start);
    return BigInt(chars[0]!);
  }

  /** An integer literal (C syntax: decimal, 0x hex, leading-0 octal, U/L suffixes) as a u64. */
  integerLiteral(): bigint {
    const f = this.top;
    const start = f.pos;
    INTEGER.lastIndex = f.pos;
    const m = INTEGER.exec(f.text);
    if (m === null) throw this.error(`bad integer literal ${this.describeNext()}`);
    const digits = m[1]!;
    let value: bigint;
    if (digits.length < 10 && !digits.startsWith('0')) value = BigInt(Number(digits));
    else if (digits[1] === 'x' || digits[1] === 'X') value = BigInt(digits);
    else if (digits.length > 1 && digits.startsWith('0')) {
      if (!/^[0-7]+$/.test(digits)) throw this.error(`bad octal literal ${digits}`, start);
      value = BigInt('0o' + digits.slice(1));
    } else value = BigInt(digits);
    if (value > 0xffffffffffffffffn) throw this.error(`integer literal ${digits} overflows 64 bits`, start);
    f.pos += m[0].length;
    return value;
  }
}
