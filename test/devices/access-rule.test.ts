/**
 * A model's declared access rule is enforced once, by the address space that maps it (and by the
 * stage-2 window onto part of a device): refused reads and peeks give 0, refused writes never reach it.
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/machine/address-space.js';
import { NATURAL_ACCESS, WORD_ACCESS, type AccessRule, type AccessSize, type MmioDevice } from '../../src/machine/mmio-device.js';
import { OffsetDevice } from '../../src/hypervisor/stage2/offset-device.js';

/** Answers every access it sees with 0xa5a5a5a5 and records it. */
class Recorder implements MmioDevice {
  readonly name = 'recorder';
  readonly seen: string[] = [];
  constructor(readonly accessRule?: AccessRule) {}
  read(offset: number, size: AccessSize): number {
    this.seen.push(`r${size}@${offset}`);
    return 0xa5a5a5a5;
  }
  write(offset: number, size: AccessSize, value: number): void {
    this.seen.push(`w${size}@${offset}=${value}`);
  }
  peek(): number {
    return 0xa5;
  }
  reset(): void {}
}

describe('access rules', () => {
  it('WORD_ACCESS: only aligned 32-bit accesses reach the model; an 8-byte access is two of them', () => {
    const dev = new Recorder(WORD_ACCESS);
    const space = new AddressSpace();
    space.mapMmio(0x1000, 0x100, dev);
    expect(space.read(0x1004, 4)).toBe(0xa5a5a5a5n);
    expect(space.read(0x1004, 2)).toBe(0n);
    expect(space.read(0x1006, 4)).toBe(0n);
    expect(space.write(0x1001, 1, 7n)).toBe(true); // mapped: no fault, just dropped
    expect(space.read(0x1008, 8)).toBe(0xa5a5a5a5a5a5a5a5n);
    expect(space.readDebug(0x1004, 2)).toEqual(new Uint8Array([0, 0]));
    expect(dev.seen).toEqual(['r4@4', 'r4@8', 'r4@12']);
  });

  it('NATURAL_ACCESS: any width at a multiple of itself; no rule: everything', () => {
    const dev = new Recorder(NATURAL_ACCESS);
    const all = new Recorder();
    const space = new AddressSpace();
    space.mapMmio(0x1000, 0x100, dev);
    space.mapMmio(0x2000, 0x100, all);
    space.write(0x1002, 2, 1n);
    space.write(0x1003, 2, 2n);
    space.write(0x1003, 1, 3n);
    space.write(0x2003, 4, 4n);
    expect(space.readDebug(0x1001, 2)).toEqual(new Uint8Array([0xa5, 0xa5]));
    expect(dev.seen).toEqual(['w2@2=1', 'w1@3=3']);
    expect(all.seen).toEqual(['w4@3=4']);
  });

  it('a window onto part of a device applies the rule at the device\'s own offsets', () => {
    const dev = new Recorder(WORD_ACCESS);
    const space = new AddressSpace();
    space.mapMmio(0x1000, 0x100, new OffsetDevice(dev, 2));
    expect(space.read(0x1000, 4)).toBe(0n); // device offset 2
    expect(space.read(0x1002, 4)).toBe(0xa5a5a5a5n); // device offset 4
    expect(dev.seen).toEqual(['r4@4']);
  });
});
