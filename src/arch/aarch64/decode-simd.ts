/** Advanced SIMD and floating point: filled in after the integer core (see issue 4, step 5). */
import type { Emitted, Site } from './emit.js';

export function translateSimd(_insn: number, _site: Site): Emitted | undefined {
  return undefined;
}

export function translateSimdLoadStore(_insn: number, _site: Site): Emitted | undefined {
  return undefined;
}
