/** CRC32 (polynomial 0x04C11DB7, reflected) and CRC32C (0x1EDC6F41) as the A64 CRC32* instructions compute them. */

function table(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
}

const CRC32 = table(0xedb88320);
const CRC32C = table(0x82f63b78);

/** Folds the low `bytes` bytes of `data` (little-endian) into accumulator `acc`. */
export function crc32Update(acc: number, data: bigint, bytes: number, castagnoli: boolean): number {
  const t = castagnoli ? CRC32C : CRC32;
  let c = acc >>> 0;
  for (let i = 0; i < bytes; i++) {
    const b = Number((data >> BigInt(8 * i)) & 0xffn);
    c = (t[(c ^ b) & 0xff]! ^ (c >>> 8)) >>> 0;
  }
  return c;
}
