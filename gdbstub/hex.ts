/** Hex conversions of RSP payloads; malformed input throws PacketError (the session replies E..). */

/** A request the stub cannot parse or serve; `code` is the errno-style E reply (E01, E14, E22…). */
export class PacketError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PacketError';
  }
}

/** EINVAL: malformed request. */
export const E_INVALID = 'E22';
/** EFAULT: memory or register not accessible. */
export const E_FAULT = 'E14';
/** EPERM-like: the target refused. */
export const E_REFUSED = 'E01';

const HEX = '0123456789abcdef';
const BYTE_HEX: string[] = [];
for (let i = 0; i < 256; i++) BYTE_HEX.push(HEX[i >> 4]! + HEX[i & 15]!);

export function bytesToHex(bytes: Uint8Array): string {
  // Registers and small reads: a table walk; large reads: Buffer's native encoder.
  if (bytes.length <= 32) {
    let out = '';
    for (let i = 0; i < bytes.length; i++) out += BYTE_HEX[bytes[i]!]!;
    return out;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

export function byteToHex(b: number): string {
  return BYTE_HEX[b & 0xff]!;
}

export function textToHex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

export function hexToText(hex: string, what: string): string {
  return Buffer.from(hexToBytes(hex, what)).toString('utf8');
}

export function hexToBytes(hex: string, what: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new PacketError(E_INVALID, `${what}: '${hex.slice(0, 40)}' is not an even-length hex string`);
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function parseHexBigint(text: string, what: string): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(text)) throw new PacketError(E_INVALID, `${what}: '${text.slice(0, 40)}' is not a hex number`);
  return BigInt('0x' + text);
}

export function parseHexNumber(text: string, what: string, max = 0x7fffffff): number {
  if (!/^[0-9a-fA-F]{1,8}$/.test(text)) throw new PacketError(E_INVALID, `${what}: '${text.slice(0, 40)}' is not a hex number`);
  const value = parseInt(text, 16);
  if (value > max) throw new PacketError(E_INVALID, `${what}: ${text} exceeds ${max.toString(16)}`);
  return value;
}

/** Splits `a,b` (or `a,b:rest`) into numbers/strings, naming the packet on error. */
export function splitPair(text: string, separator: string, what: string): [string, string] {
  const i = text.indexOf(separator);
  if (i < 0) throw new PacketError(E_INVALID, `${what}: expected '${separator}' in '${text.slice(0, 40)}'`);
  return [text.slice(0, i), text.slice(i + 1)];
}
