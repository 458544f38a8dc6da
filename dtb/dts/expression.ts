/**
 * dtc's integer expressions (inside parentheses in cell lists): C operators and precedence over
 * unsigned 64-bit values, with ?:, logical, bitwise, comparison, shift, additive, multiplicative
 * and unary - ~ !.
 */
import type { Source } from './source.js';

const U64 = 0xffffffffffffffffn;
const wrap = (v: bigint): bigint => v & U64;
const bool = (b: boolean): bigint => (b ? 1n : 0n);

/** Deepest parenthesis / unary / ternary nesting accepted: keeps recursion far from the JS stack limit. */
const MAX_NESTING = 256;
let nesting = 0;

function nested<T>(src: Source, f: () => T): T {
  if (nesting >= MAX_NESTING) throw src.error(`expression nested deeper than ${MAX_NESTING}`);
  nesting++;
  try {
    return f();
  } finally {
    nesting--;
  }
}

/** A primary: literal, character literal or parenthesised expression. */
export function parsePrimary(src: Source): bigint {
  src.skip();
  const c = src.peek();
  if (c === '(') {
    src.eat('(');
    const v = nested(src, () => parseExpression(src));
    src.expect(')');
    return v;
  }
  if (c === "'") return src.charLiteral();
  if (c >= '0' && c <= '9') return src.integerLiteral();
  throw src.error(`expected a number, character or '(', found ${src.describeNext()}`);
}

function unary(src: Source): bigint {
  src.skip();
  const c = src.peek();
  if (c === '-') {
    src.eat('-');
    return wrap(-nested(src, () => unary(src)));
  }
  if (c === '~') {
    src.eat('~');
    return wrap(~nested(src, () => unary(src)));
  }
  if (c === '!' && src.peek(1) !== '=') {
    src.eat('!');
    return bool(nested(src, () => unary(src)) === 0n);
  }
  return parsePrimary(src);
}

type Level = { ops: string[]; apply: (op: string, a: bigint, b: bigint, at: number) => bigint };

// Binary levels from loosest to tightest; longer operators first so `<<` is not read as `<`.
const LEVELS: Level[] = [
  { ops: ['||'], apply: (_, a, b) => bool(a !== 0n || b !== 0n) },
  { ops: ['&&'], apply: (_, a, b) => bool(a !== 0n && b !== 0n) },
  { ops: ['|'], apply: (_, a, b) => a | b },
  { ops: ['^'], apply: (_, a, b) => a ^ b },
  { ops: ['&'], apply: (_, a, b) => a & b },
  { ops: ['==', '!='], apply: (op, a, b) => bool(op === '==' ? a === b : a !== b) },
  {
    ops: ['<=', '>=', '<', '>'],
    apply: (op, a, b) => bool(op === '<=' ? a <= b : op === '>=' ? a >= b : op === '<' ? a < b : a > b),
  },
  { ops: ['<<', '>>'], apply: (op, a, b) => (b >= 64n ? 0n : op === '<<' ? wrap(a << b) : a >> b) },
  { ops: ['+', '-'], apply: (op, a, b) => wrap(op === '+' ? a + b : a - b) },
  { ops: ['*', '/', '%'], apply: (op, a, b) => (op === '*' ? wrap(a * b) : op === '/' ? a / b : a % b) },
];

/** Which operator of `ops` comes next, not mistaking `||` for `|`, `&&` for `&`, `<<` for `<`. */
function nextOperator(src: Source, ops: string[]): string | undefined {
  src.skip();
  for (const op of ops) {
    if (!src.lookingAt(op)) continue;
    const after = src.peek(op.length);
    if ((op === '|' && after === '|') || (op === '&' && after === '&')) return undefined;
    if ((op === '<' && (after === '<' || after === '=')) || (op === '>' && (after === '>' || after === '='))) return undefined;
    return op;
  }
  return undefined;
}

function binary(src: Source, level: number): bigint {
  if (level === LEVELS.length) return unary(src);
  const { ops, apply } = LEVELS[level]!;
  let left = binary(src, level + 1);
  for (;;) {
    const op = nextOperator(src, ops);
    if (op === undefined) return left;
    const at = src.position;
    src.eat(op);
    const right = binary(src, level + 1);
    if ((op === '/' || op === '%') && right === 0n) throw src.error('division by zero', at);
    left = apply(op, left, right, at);
  }
}

/** A full expression: the ternary conditional over the binary levels. */
export function parseExpression(src: Source): bigint {
  const cond = binary(src, 0);
  if (!src.eat('?')) return cond;
  const yes = nested(src, () => parseExpression(src));
  src.expect(':');
  const no = nested(src, () => parseExpression(src));
  return cond !== 0n ? yes : no;
}
