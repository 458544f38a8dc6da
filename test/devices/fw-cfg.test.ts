import { describe, expect, it } from 'vitest';
import { FwCfg } from '../../src/devices/platform/fw-cfg.js';
import { modelReplay, qemuReplay, r, w } from './qtest.js';

const sel = (key: number) => ((key & 0xff) << 8) | (key >> 8); // cpu_to_be16 on a little-endian CPU

describe('fw-cfg', () => {
  it('streams the signature and reports no kernel, as U-Boot qfw expects (traditional interface)', () => {
    const fw = new FwCfg({ cpus: 4 });
    fw.write(8, 2, sel(0x0000));
    expect(String.fromCharCode(...[0, 1, 2, 3].map(() => fw.read(0, 1)))).toBe('QEMU');
    fw.write(8, 2, sel(0x0001));
    expect(fw.read(0, 4)).toBe(1); // no DMA: firmware falls back to the data port
    fw.write(8, 2, sel(0x0008));
    expect(fw.read(0, 4)).toBe(0);
    fw.write(8, 2, sel(0x0019));
    expect(fw.read(0, 4)).toBe(0); // empty file directory
    fw.write(8, 2, sel(0x0005));
    expect(fw.read(0, 2)).toBe(4);
    fw.write(8, 2, sel(0x1234));
    expect(fw.read(0, 4)).toBe(0);
    expect(fw.peek(0)).toBeUndefined();
    fw.write(8, 4, 0); // wrong width: ignored
    expect(fw.selectedKey).toBe(0x1234);
  });

  it("reads like QEMU arm64 virt's fw-cfg for the items both have (signature, CPUs, kernel sizes, stream order)", async () => {
    const B = 0x9020000;
    const seq = [
      w(B + 8, sel(0), 2), r(B), r(B),
      w(B + 8, sel(5), 2), r(B, 2),
      w(B + 8, sel(8), 2), r(B), w(B + 8, sel(0x0b), 2), r(B), w(B + 8, sel(0x14), 2), r(B),
      w(B + 8, sel(0), 2), r(B, 1), r(B, 1), r(B, 2), r(B, 2), r(B + 8, 2),
    ];
    const qemu = await qemuReplay('qemu-system-aarch64', ['-M', 'virt', '-cpu', 'cortex-a53', '-smp', '2', '-m', '128M'], seq);
    expect(modelReplay(new FwCfg({ cpus: 2 }), B, seq)).toEqual(qemu);
  });
});
