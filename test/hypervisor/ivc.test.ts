import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../src/hypervisor/lifecycle/hypervisor.js';
import { PartitionError } from '../../src/hypervisor/lifecycle/partition-check.js';
import { HypercallCode } from '../../src/hypervisor/lifecycle/hypercalls.js';
import type { IrqchipFactory } from '../../src/hypervisor/zone/zone.js';
import { FakeCpu, Op, encode } from './fake-cpu.js';
import { qemuVirtAarch64 } from './boards.js';
import { config } from './zone-fixture.js';

const CT = 0x90000000n;
const SHM = 0x90001000n;

/** hvisor-tool's ruxos example channel (ivc 0, two peers, one 4 KiB out section each, doorbell 66), moved to 0x9000_0000. */
const ivc = (peerId: number) => ({
  ivc_id: 0, peer_id: peerId, control_table_ipa: '0x90000000', shared_mem_ipa: '0x90001000',
  rw_sec_size: '0', out_sec_size: '0x1000', interrupt_num: 66, max_peers: 2,
});

/** Every owned interrupt is line 0 of vCPU 0 (enough for a doorbell). */
const doorbells: IrqchipFactory = (zone) => ({
  windows: [],
  input: (irq) => {
    if (!zone.config.interrupts.includes(irq)) return undefined;
    const set = (l: boolean) => {
      zone.cpus[0]!.setInterrupt(0, l);
      if (l) zone.kick(0);
    };
    return { set, pulse: () => set(true) };
  },
  reset() {},
});

function twoPeers() {
  const { machine } = qemuVirtAarch64();
  const log: string[] = [];
  const hv = new Hypervisor({ machine, createCpu: FakeCpu.factory(), createIrqchip: doorbells, timerFrequency: 1000, log: (l) => log.push(l) });
  // Peer 0 (zone1): write its out section, ring peer 1, wait, then read peer 1's answer.
  const a = config(1, (j) => ((j.ivc_configs = [ivc(0)]), j.interrupts.push(66)));
  hv.startZone(a, [{ name: 'a', paddr: 0x50400000, data: encode([
    [Op.Store, 0xcafe, SHM],
    [Op.Load, 0, CT + 0x10n],
    [Op.Store, 1, CT + 0x14n],
    [Op.WaitIrq, 0],
    [Op.Load, 0, SHM + 0x1000n],
    [Op.WaitIrq, 0],
  ]) }]);
  // Peer 1 (zone0): wait, read peer 0's section, try to scribble on it, answer in its own, ring back.
  const b = config(0, (j) => (j.ivc_configs = [ivc(1)]));
  hv.startZone(b, [{ name: 'b', paddr: 0x40400000, data: encode([
    [Op.WaitIrq, 0],
    [Op.Load, 0, SHM],
    [Op.StoreIgnoringFault, 0xbad, SHM],
    [Op.Store, 0x77, SHM + 0x1000n],
    [Op.Store, 0, CT + 0x14n],
    [Op.WaitIrq, 0],
  ]) }]);
  return { hv, machine, log };
}

describe('IVC between two zones (hvisor ivc_configs)', () => {
  it('round trip: shared sections, the doorbell, read-only peer sections, the control table', () => {
    const { hv } = twoPeers();
    const za = hv.zone(1)!;
    const zb = hv.zone(0)!;
    const ca = za.cpus[0] as FakeCpu;
    const cb = zb.cpus[0] as FakeCpu;
    for (let i = 0; i < 4; i++) hv.scheduler.runRound();
    expect(cb.r[0]).toBe(0xcafen); // peer 1 read peer 0's message
    expect(ca.r[0]).toBe(0x77n); // and peer 0 read the answer after its doorbell
    expect(za.memory.read(Number(SHM), 4)).toBe(0xcafen); // peer 1's write to peer 0's section was dropped
    expect(za.memory.read(Number(CT), 4)).toBe(0n); // ivc_id
    expect(za.memory.read(Number(CT) + 4, 4)).toBe(2n); // max_peers
    expect(za.memory.read(Number(CT) + 0xc, 4)).toBe(0x1000n); // out_sec_size
    expect(zb.memory.read(Number(CT) + 0x10, 4)).toBe(1n); // peer id of zone0
    expect(za.state).toBe('running');
    expect(zb.state).toBe('running');
  });

  it('HvIvcInfo reports the channel; a zone without IVC gets ENODEV; shutting a peer down frees its slot', () => {
    const { hv } = twoPeers();
    const za = hv.zone(1)!;
    expect(za.hypercall(HypercallCode.IvcInfo, [0x50001000n])).toBe(0n);
    const info = za.memory.readDebug(0x50001000, 56);
    const v = new DataView(info.buffer, info.byteOffset);
    expect([v.getBigUint64(0, true), v.getBigUint64(8, true), v.getBigUint64(24, true), v.getUint32(40, true), v.getUint32(48, true)])
      .toEqual([1n, CT, SHM, 0, 66]);
    hv.shutdownZone(1);
    // Peer 0 is free again: a new zone can take it; a second peer 1 cannot.
    expect(() => hv.startZone(config(1, (j) => ((j.ivc_configs = [ivc(0)]), j.interrupts.push(66))))).not.toThrow();
    hv.shutdownZone(1);
    const dup = config(1, (j) => ((j.ivc_configs = [ivc(1)]), j.interrupts.push(66)));
    expect(() => hv.startZone(dup)).toThrow(PartitionError);
    expect(() => hv.startZone(dup)).toThrow(/peer id 1 is (taken by both|taken by zone 0)/);
    const plain = hv.startZone(config(1, (j) => ((j.zone_id = 3), (j.name = 'plain'))));
    expect(plain.hypercall(HypercallCode.IvcInfo, [0x50001000n])).toBe(BigInt.asUintN(64, -19n));
  });
});
