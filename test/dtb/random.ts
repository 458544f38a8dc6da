import { mulberry32 } from '../helpers/prng.js';

/** Seeded, so fuzz and oracle tests are reproducible run to run. */
export const rng = mulberry32;

export function randomInt(next: () => number, below: number): number {
  return Math.floor(next() * below);
}

/** Values that sit on dtc's string / cells / bytes decision boundaries. */
export function randomValue(next: () => number): Uint8Array {
  const len = randomInt(next, 14);
  const out = new Uint8Array(len);
  const style = randomInt(next, 4);
  for (let i = 0; i < len; i++) {
    const r = next();
    if (style === 0) out[i] = randomInt(next, 256);
    else if (r < 0.25) out[i] = 0;
    else if (r < 0.3) out[i] = [7, 8, 9, 10, 11, 12, 13, 0x5c, 0x22, 0x7f, 0x80, 0x1f][randomInt(next, 12)]!;
    else out[i] = 0x20 + randomInt(next, 0x5f);
  }
  if (style >= 2 && len > 0) out[len - 1] = 0;
  return out;
}
