import { describe, expect, it } from 'vitest';
import { guestView } from '../helpers/guest-view.js';
import { CfiFlash } from '../../src/devices/platform/cfi-flash.js';
import { createDevice } from '../../src/devices/registry.js';
import { DeviceDescriptionError } from '../../src/devices/device-node.js';
import { modelReplay, qemuReplay, r, w, type Access } from './qtest.js';

const MiB = 1024 * 1024;

/** Query, identifier, status, program and buffered program, as U-Boot's cfi_flash driver issues them. */
function sequence(base: number): Access[] {
  const q = (i: number, size: 1 | 2 | 4 = 4) => r(base + i * 4 + (size === 2 && i === 0x10 ? 2 : 0), size);
  return [
    r(base), r(base + 0x20),
    w(base, 0x00980098),
    ...Array.from({ length: 0x36 - 0x10 }, (_, k) => q(0x10 + k)),
    r(base + 0x40, 2), r(base + 0x42, 2), r(base + 0x40, 1), r(base + 0x41, 1), r(base + 0x44, 1), r(base + 0x46, 2),
    // U-Boot's reset: the AMD command, then the Intel one.
    w(base, 0x00f000f0), w(base, 0x00ff00ff), r(base),
    w(base, 0x00900090), r(base), r(base + 4), r(base + 8),
    r(base + 1, 1), r(base + 4, 2),
    w(base, 0x00700070), r(base), r(base + 3, 1), w(base, 0x00500050), r(base),
    w(base, 0x00ff00ff),
    w(base + 0x100, 0x00400040), w(base + 0x100, 0x12345678), r(base + 0x100), w(base, 0x00ff00ff), r(base + 0x100), r(base + 0x104),
    // Buffered program of two words at 0x200 (count is words - 1 per chip).
    w(base + 0x200, 0x00e800e8), r(base + 0x200), w(base + 0x200, 0x00010001), w(base + 0x200, 0xcafef00d), w(base + 0x204, 0x0badbeef),
    w(base + 0x200, 0x00d000d0), r(base + 0x200), w(base, 0x00ff00ff), r(base + 0x200), r(base + 0x204), r(base + 0x208),
    // Unlock then erase the block, read it back erased.
    w(base + 0x40000, 0x00600060), w(base + 0x40000, 0x00d000d0), w(base + 0x40000, 0x00200020), w(base + 0x40000, 0x00d000d0),
    r(base + 0x40000), w(base, 0x00ff00ff), r(base + 0x40000), r(base + 0x7fffc),
  ];
}

describe('CFI flash (Intel command set, QEMU pflash_cfi01 layout)', () => {
  it("answers U-Boot's probe and programming sequence exactly as QEMU arm64 virt's flash bank 0 (64 MiB, bank-width 4)", async () => {
    const seq = sequence(0);
    const qemu = await qemuReplay('qemu-system-aarch64', ['-M', 'virt', '-cpu', 'cortex-a53', '-m', '128M'], seq);
    expect(modelReplay(new CfiFlash({ size: 64 * MiB, bankWidth: 4 }), 0, seq)).toEqual(qemu);
  });

  it("and as QEMU riscv virt's flash at 0x20000000 (32 MiB banks)", async () => {
    const seq = sequence(0x20000000);
    const qemu = await qemuReplay('qemu-system-riscv64', ['-M', 'virt', '-m', '128M'], seq);
    expect(modelReplay(new CfiFlash({ size: 32 * MiB, bankWidth: 4 }), 0x20000000, seq)).toEqual(qemu);
  });

  it('is bound from the DTB node with its bank-width, holds an image, and refuses impossible geometry', () => {
    const bankWidth = new Uint8Array([0, 0, 0, 4]);
    const flash = createDevice({
      path: '/flash@0',
      compatible: ['cfi-flash'],
      windows: [{ base: 0, size: 64 * MiB }, { base: 64 * MiB, size: 64 * MiB }],
      irqs: [],
      property: (n) => (n === 'bank-width' ? bankWidth : undefined),
    })!;
    flash.write(0, 4, 0x98);
    expect(flash.read(0x10 * 4, 4)).toBe(0x00510051);
    const img = guestView(new CfiFlash({ size: 256 * 1024, bankWidth: 2, image: new Uint8Array([1, 2, 3, 4]) }));
    expect(img.read(0, 4)).toBe(0x04030201);
    expect(img.read(2, 4)).toBe(0); // misaligned
    expect(img.read(256 * 1024, 4)).toBe(0); // past the bank
    expect(() => new CfiFlash({ size: 3 * MiB, bankWidth: 4 })).toThrow(DeviceDescriptionError);
    expect(() => new CfiFlash({ size: 64 * MiB, bankWidth: 3 })).toThrow(DeviceDescriptionError);
  });
});
