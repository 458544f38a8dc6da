/**
 * hvisor's virtio bridge between a nonroot zone's `virtio` region and zone0's daemon, on real aarch64
 * cores: zone0 runs a small daemon (hypercall 0, polls the request ring, answers through
 * cfg_values/cfg_flags, queues a result and makes hypercall 1); zone1 reads a virtio register (its
 * vCPU waits inside the load until zone0 answers), configures its GIC and notifies a queue (no wait).
 * The layout is checked against gcc compiling hvisor-tool's own include/hvisor.h.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, tool } from '../helpers/fixtures.js';
import { findBoard } from '../../boards/index.js';
import { buildBoard } from '../../src/board/board-builder.js';
import { Hypervisor } from '../../src/hypervisor/lifecycle/hypervisor.js';
import { aarch64Factories } from '../../src/hypervisor/zone/arch-factories.js';
import { loadZoneConfig, zoneConfigFromJson } from '../../src/config/zone-config.js';
import { zoneConfigLayout } from '../../src/config/zone-config-binary.js';
import { BRIDGE_LAYOUT } from '../../src/hypervisor/lifecycle/virtio-bridge.js';

const configs = join(import.meta.dirname, 'configs');
const BRIDGE = 0x41000000;
const OUT0 = 0x41100000;
const OUT1 = 0x50100000;
const EPERM = BigInt.asUintN(64, -1n);

function assemble(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'a64-'));
  writeFileSync(join(dir, 'p.s'), source);
  execFileSync(tool('aarch64-linux-gnu-as'), ['-o', join(dir, 'p.o'), join(dir, 'p.s')]);
  execFileSync(tool('aarch64-linux-gnu-objcopy'), ['-O', 'binary', join(dir, 'p.o'), join(dir, 'p.bin')]);
  return new Uint8Array(readFileSync(join(dir, 'p.bin')));
}

const L = BRIDGE_LAYOUT;

// zone0: the wake-up interrupt (64) edge-triggered in its GIC; an empty request ring (as hvisor.ko's
// fresh page) and hypercall 0 with the bridge page; says it
// sleeps (need_wakeup = 1); then serves requests: configuration accesses are answered with
// address + 1, a queue notification queues {zone 1, irq 78} and makes hypercall 1. OUT0 counts
// requests and keeps the last address.
const DAEMON = `
  .globl _start
_start:
  ldr x9, =0x8000c10
  mov w10, #2
  str w10, [x9]
  ldr x1, =${BRIDGE}
  str wzr, [x1, #${L.reqFront}]
  str wzr, [x1, #${L.reqRear}]
  mov x0, #0
  hvc #0x4856
  ldr x9, =${OUT0}
  str x0, [x9, #16]
  mov w10, #1
  strb w10, [x1, #${L.needWakeup}]
loop:
  ldr w2, [x1, #${L.reqFront}]
  ldr w3, [x1, #${L.reqRear}]
  cmp w2, w3
  b.eq loop
  mov x4, #40
  madd x5, x2, x4, x1
  add x5, x5, #${L.reqList}
  ldr x6, [x5]
  ldr x7, [x5, #8]
  ldrb w8, [x5, #37]
  str x7, [x9, #8]
  ldr x10, [x9]
  add x10, x10, #1
  str x10, [x9]
  add w2, w2, #1
  and w2, w2, #31
  str w2, [x1, #${L.reqFront}]
  cbnz w8, notify
  add x10, x1, #${L.cfgValues}
  add x11, x7, #1
  str x11, [x10, x6, lsl #3]
  add x10, x1, #${L.cfgFlags}
  ldr x11, [x10, x6, lsl #3]
  add x11, x11, #1
  str x11, [x10, x6, lsl #3]
  b loop
notify:
  ldr w12, [x1, #${L.resRear}]
  add x13, x1, #${L.resList}
  add x13, x13, x12, lsl #3
  mov w14, #1
  str w14, [x13]
  mov w14, #78
  str w14, [x13, #4]
  add w12, w12, #1
  and w12, w12, #31
  str w12, [x1, #${L.resRear}]
  mov x0, #1
  hvc #0x4856
  b loop
  .ltorg
`;

// zone1 (CPUs 2, 3): tries zone0's hypercalls 0 and 2 (EPERM), makes SPI 78 edge-triggered, reads the
// virtio-blk slot's DeviceID register (waits for zone0), notifies queue 0 of the region's first slot.
const GUEST = `
  .globl _start
_start:
  ldr x9, =${OUT1}
  mov x0, #0
  ldr x1, =0x50200000
  hvc #0x4856
  str x0, [x9, #16]
  mov x0, #2
  mov x2, #100
  hvc #0x4856
  str x0, [x9, #24]
  ldr x1, =0x8000c10
  mov w2, #0x20000000
  str w2, [x1]
  ldr x1, =0xa003c00
  ldr w2, [x1, #8]
  str x2, [x9]
  ldr x1, =0xa000000
  mov w2, #0
  str w2, [x1, #0x50]
  mov x3, #1
  str x3, [x9, #8]
  b .
  .ltorg
`;

function zones() {
  const { machine } = buildBoard(findBoard('qemu-virt-aarch64'));
  const { createCpu, createIrqchip } = aarch64Factories('gicv3');
  const log: string[] = [];
  const hv = new Hypervisor({ machine, createCpu, createIrqchip, timerFrequency: 62_500_000, log: (l) => log.push(l) });
  const root = zoneConfigFromJson(JSON.parse(readFileSync(join(configs, 'qemu-aarch64-zone0.json'), 'utf8')), 'zone0.json');
  const zone0 = hv.startZone(root, [{ name: 'daemon', paddr: 0x40400000, data: assemble(DAEMON) }]);
  const startZone1 = () => hv.startZone(loadZoneConfig(join(configs, 'qemu-aarch64-zone1_linux_with_pci.json')), [{ name: 'guest', paddr: 0x50400000, data: assemble(GUEST) }]);
  return { machine, hv, zone0, startZone1, log };
}

/** GICD_ISPENDR bit of `irq` in a zone's own distributor. */
const pending = (zone: { memory: { read(a: number, s: 4): bigint | undefined } }, irq: number) =>
  (Number(zone.memory.read(0x8000200 + 4 * (irq >> 5), 4)) >>> (irq & 31)) & 1;

describe("hvisor's virtio bridge between zone1's virtio region and zone0's daemon", () => {
  it("our ring layout and zone_config size equal gcc's for hvisor-tool's include/hvisor.h", () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-'));
    writeFileSync(join(dir, 'layout.c'), `#include "hvisor.h"
      #define O(f) __builtin_offsetof(struct virtio_bridge, f)
      const unsigned long v[] = { O(req_front), O(req_rear), O(res_front), O(res_rear), O(req_list), O(res_list), O(cfg_flags),
        O(cfg_values), O(need_wakeup), sizeof(struct virtio_bridge), sizeof(struct zone_config) };`);
    const asm = execFileSync(tool('aarch64-linux-gnu-gcc'), ['-I', fixture('hvisor-tool/include'), '-S', '-o', '-', join(dir, 'layout.c')], { encoding: 'utf8' });
    const values = [...asm.matchAll(/\.(?:xword|dword|quad)\s+(\d+)/g)].map((m) => Number(m[1]));
    expect(values).toEqual([L.reqFront, L.reqRear, L.resFront, L.resRear, L.reqList, L.resList, L.cfgFlags, L.cfgValues, L.needWakeup, L.size, zoneConfigLayout('aarch64', 6).size]);
  });

  it('a config read waits for the daemon (also while zone0 is halted), a notify does not; results inject the interrupt; zone1 gets EPERM for zone0-only hypercalls', () => {
    const { machine, hv, zone0, startZone1, log } = zones();
    for (let i = 0; i < 3 && !hv.virtioBridge.enabled; i++) hv.scheduler.runRound();
    expect(machine.physical.read(OUT0 + 16, 8)).toBe(0n); // hypercall 0 succeeded
    expect(hv.virtioBridge.address).toBe(BRIDGE);
    for (let i = 0; i < 3; i++) hv.scheduler.runRound(); // the daemon sets need_wakeup and polls
    zone0.halt(); // the daemon stops, as under gdb: zone1's request must wait for it
    const zone1 = startZone1();
    for (let i = 0; i < 5; i++) hv.scheduler.runRound();
    expect(machine.physical.read(OUT1 + 16, 8)).toBe(EPERM); // virtio init from zone1
    expect(machine.physical.read(OUT1 + 24, 8)).toBe(EPERM); // zone start from zone1
    expect(hv.virtioBridge.address).toBe(BRIDGE); // zone1's hypercall 0 changed nothing
    expect(log.filter((l) => l.includes('hypercall refused (-1)'))).toHaveLength(2);
    expect(machine.physical.read(OUT1, 8)).toBe(0n); // the read has not completed
    expect(zone1.threads()[0]!.extra).toMatch(/waiting for a device/);
    expect(machine.physical.read(BRIDGE + L.reqRear, 4)).toBe(1n); // one request queued...
    expect(pending(zone0, 64)).toBe(1); // ...and the sleeping daemon's wake-up interrupt raised
    const pc = zone1.cpus[0]!.pc;
    for (let i = 0; i < 5; i++) hv.scheduler.runRound();
    expect(zone1.cpus[0]!.pc).toBe(pc); // still inside the load

    zone0.resume(new Map(), 'continue');
    for (let i = 0; i < 20 && machine.physical.read(OUT1 + 8, 8) !== 1n; i++) hv.scheduler.runRound();
    expect(machine.physical.read(OUT1, 8)).toBe(0xa003c09n); // the daemon's answer: address + 1
    expect(machine.physical.read(OUT1 + 8, 8)).toBe(1n); // the notify returned at once
    for (let i = 0; i < 200 && machine.physical.read(OUT0, 8) !== 2n; i++) hv.scheduler.runRound();
    expect(machine.physical.read(OUT0, 8)).toBe(2n); // two requests: the read, the notify
    expect(machine.physical.read(OUT0 + 8, 8)).toBe(0xa000050n);
    expect(pending(zone1, 78)).toBe(1); // hypercall 1 injected the result's interrupt into zone1
    expect(zone1.state).toBe('running');
    expect(zone0.state).toBe('running');
  });

  it("zone0 restarting forgets its bridge page: zone1's access waiting on the old daemon waits on, then is made again to the next one", () => {
    const { machine, hv, zone0, startZone1 } = zones();
    for (let i = 0; i < 6; i++) hv.scheduler.runRound();
    expect(hv.virtioBridge.enabled).toBe(true);
    zone0.halt(); // the old daemon never answers
    const zone1 = startZone1();
    for (let i = 0; i < 5; i++) hv.scheduler.runRound();
    expect(machine.physical.read(BRIDGE + L.reqRear, 4)).toBe(1n); // zone1's read went to the old daemon

    hv.restartZone(0);
    expect(hv.virtioBridge.enabled).toBe(false); // no request goes into the rebooting zone0's RAM
    zone0.halt(); // the next daemon is not up yet
    for (let i = 0; i < 5; i++) hv.scheduler.runRound();
    expect(machine.physical.read(OUT1, 8)).toBe(0n); // zone1 reads no made-up value meanwhile...
    expect(zone1.threads()[0]!.extra).toMatch(/waiting for a device/); // ...it waits

    zone0.resume(new Map(), 'continue');
    for (let i = 0; i < 200 && machine.physical.read(OUT1 + 8, 8) !== 1n; i++) hv.scheduler.runRound();
    expect(machine.physical.read(OUT1, 8)).toBe(0xa003c09n); // answered by the next daemon
    for (let i = 0; i < 200 && machine.physical.read(OUT0, 8) !== 2n; i++) hv.scheduler.runRound();
    expect(machine.physical.read(OUT0, 8)).toBe(2n); // which saw the read made again and the notify
  });
});
