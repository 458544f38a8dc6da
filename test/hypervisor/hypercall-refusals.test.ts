import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../src/hypervisor/lifecycle/hypervisor.js';
import { HypercallCode } from '../../src/hypervisor/lifecycle/hypercalls.js';
import { encodeZoneConfig, zoneConfigLayout } from '../../src/config/zone-config-binary.js';
import { FakeCpu, Op, encode } from './fake-cpu.js';
import { qemuVirtAarch64 } from './boards.js';
import { config } from './zone-fixture.js';

describe('zone start from zone0 with image sizes its RAM cannot hold (issue 18, item 9)', () => {
  it('is refused with EINVAL and a typed line, not a JS allocation error', () => {
    const { machine } = qemuVirtAarch64();
    const log: string[] = [];
    const hv = new Hypervisor({ machine, createCpu: FakeCpu.factory(), timerFrequency: 1000, log: (l) => log.push(l) });
    const zone0 = hv.startZone(config(0), [{ name: 'k0', paddr: 0x40400000, data: encode([[Op.WaitIrq, 0]]) }]);
    const size = BigInt(zoneConfigLayout('aarch64').size);
    for (const [kernel, dtb] of [[2 ** 40, 0], [0x1000, 2 ** 52]] as const) {
      machine.physical.writeDebug(0x41000000, encodeZoneConfig(config(1), 'aarch64', kernel, dtb));
      expect(zone0.hypercall(HypercallCode.ZoneStart, [0x41000000n, size])).toBe(BigInt.asUintN(64, -22n));
      expect(log.at(-1)).toMatch(/^zone 0 \(root-linux\): hypercall refused \(-22\): zone start: (kernel|dtb) size 0x[0-9a-f]+ is more than the zone's 0x[0-9a-f]+ bytes of RAM$/);
    }
    expect(hv.list().map((z) => z.id)).toEqual([0]);
  });
});
