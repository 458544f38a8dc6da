import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../src/hypervisor/lifecycle/hypervisor.js';
import { HypercallCode } from '../../src/hypervisor/lifecycle/hypercalls.js';
import { FakeCpu, Op, encode } from './fake-cpu.js';
import { qemuVirtAarch64 } from './boards.js';
import { config } from './zone-fixture.js';

const ENTRY0 = 0x40400000n;
const ENTRY1 = 0x50400000n;

describe('a zone flooding the log (issue 18, item 4)', () => {
  it('refused and unknown hypercalls in a tight loop: a bounded number of lines, the drops counted, zone0 runs on', () => {
    const { machine } = qemuVirtAarch64();
    const log: string[] = [];
    const hv = new Hypervisor({ machine, createCpu: FakeCpu.factory(), timerFrequency: 1000, log: (l) => log.push(l) });
    hv.startZone(config(0), [{ name: 'k0', paddr: 0x40400000, data: encode([[Op.Inc, 0], [Op.Jump, 0, ENTRY0]]) }]);
    // zone1: shut zone0 down (EPERM), an unknown hypercall, zone start (EPERM), forever.
    hv.startZone(config(1), [{ name: 'k1', paddr: 0x50400000, data: encode([
      [Op.Hvc, Number(HypercallCode.ZoneShutdown), 0n],
      [Op.Hvc, 99, 0n],
      [Op.Hvc, Number(HypercallCode.ZoneStart), 0n],
      [Op.Jump, 0, ENTRY1],
    ]) }]);
    const before = log.length;
    const t0 = performance.now();
    // Each hypercall is charged in instructions (exit-costs.ts): rounds until the attacker made over 10,000.
    for (let i = 0; i < 5000 && hv.logs.dropped(1) <= 10_000; i++) hv.scheduler.runRound();
    const seconds = (performance.now() - t0) / 1000;
    const attacker = log.slice(before).filter((l) => l.startsWith('zone 1 '));
    expect(attacker.length).toBeGreaterThan(0);
    // The burst (20), then 5 a second, each after a line that counts the drops.
    expect(attacker.length).toBeLessThanOrEqual(20 + 2 * Math.ceil(5 * seconds + 1));
    expect(hv.logs.dropped(1)).toBeGreaterThan(10_000);
    expect((hv.zone(0)!.cpus[0] as FakeCpu).r[1]).toBeGreaterThan(10_000n);
    expect(hv.list().map((z) => z.state)).toEqual(['running', 'running']);
    hv.stop();
    expect(log.at(-1)).toMatch(/^zone 1: \d+ messages dropped \(more than 5 a second\)$/);
  });

  it('an IVC doorbell rung for a peer that is not there, in a tight loop: bounded lines, drops counted', () => {
    const { machine } = qemuVirtAarch64();
    const log: string[] = [];
    const hv = new Hypervisor({ machine, createCpu: FakeCpu.factory(), timerFrequency: 1000, log: (l) => log.push(l) });
    hv.startZone(config(0), [{ name: 'k0', paddr: 0x40400000, data: encode([[Op.Inc, 0], [Op.Jump, 0, ENTRY0]]) }]);
    // hvisor-tool's ruxos example channel moved to 0x9000_0000; peer 1 never joins.
    const ivc = { ivc_id: 0, peer_id: 0, control_table_ipa: '0x90000000', shared_mem_ipa: '0x90001000', rw_sec_size: '0', out_sec_size: '0x1000', interrupt_num: 200, max_peers: 2 };
    hv.startZone(config(1, (j) => ((j.ivc_configs = [ivc]), j.interrupts.push(200))), [{ name: 'k1', paddr: 0x50400000, data: encode([
      [Op.Store, 1, 0x90000014n], // ring peer 1
      [Op.Jump, 0, ENTRY1],
    ]) }]);
    const before = log.length;
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) hv.scheduler.runRound();
    const seconds = (performance.now() - t0) / 1000;
    const attacker = log.slice(before).filter((l) => l.startsWith('zone 1 '));
    expect(attacker[0]).toBe('zone 1 (linux2): ivc0: zone 1 rang peer 1, which is not connected');
    expect(attacker.length).toBeLessThanOrEqual(20 + 2 * Math.ceil(5 * seconds + 1));
    expect(hv.logs.dropped(1)).toBeGreaterThan(10_000);
    expect((hv.zone(0)!.cpus[0] as FakeCpu).r[1]).toBeGreaterThan(10_000n);
  });
});
