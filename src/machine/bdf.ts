/**
 * A PCI function address packed as hvisor's zone configs write it: bus << 8 | device << 3 | function
 * (0x18 = 00:03.0).
 */
export type Bdf = number;

export function bdf(bus: number, device: number, fn: number): Bdf {
  if (!(bus >= 0 && bus < 256 && device >= 0 && device < 32 && fn >= 0 && fn < 8)) {
    throw new RangeError(`no such PCI function ${bus}:${device}.${fn}: bus 0..255, device 0..31, function 0..7`);
  }
  return (bus << 8) | (device << 3) | fn;
}

export const bdfBus = (b: Bdf): number => (b >>> 8) & 0xff;
export const bdfDevice = (b: Bdf): number => (b >>> 3) & 0x1f;
export const bdfFunction = (b: Bdf): number => b & 7;

/** "00:03.0", as lspci and Linux print it. */
export function formatBdf(b: Bdf): string {
  const h = (n: number, w: number): string => n.toString(16).padStart(w, '0');
  return `${h(bdfBus(b), 2)}:${h(bdfDevice(b), 2)}.${bdfFunction(b)}`;
}

/** Parses "00:03.0" or "0000:00:03.0" (domain ignored); throws naming the text when malformed. */
export function parseBdf(text: string): Bdf {
  const m = /^(?:[0-9a-f]{4}:)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/i.exec(text.trim());
  if (m === null) throw new SyntaxError(`"${text}" is not a PCI address like 00:03.0`);
  return bdf(parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16));
}
