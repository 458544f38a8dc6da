/**
 * Zone teardown under attack (issue 18, item 1): a nonroot zone posts virtio-net receive buffers
 * and is shut down; the next zone given its CPU and RAM must find only what its own loading wrote,
 * however much traffic the board switch carries. Then hundreds of start/shutdown cycles of a zone
 * with a disk image, a TCP console on a fixed port and a NIC keep the process's fds and heap flat.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import type { Hypervisor } from '../../src/hypervisor/lifecycle/hypervisor.js';
import { VirtualSwitch } from '../../src/devices/virtio/virtual-switch.js';
import { scratch } from '../helpers/linux-initramfs.js';
import { onFreePort } from '../helpers/ports.js';
import { assembleRiscv } from './riscv-asm.js';
import { counterZone0, riscvZone, ZONE0_COUNTER } from './riscv-test-zones.js';

const ZONE_RAM = 0x101000000;
const ZONE_RAM_SIZE = 0x1000000;
const KERNEL = ZONE_RAM + 0x10000;
const VIRTIO_NET = 0x10008000;
const DESC = 0x101100000;
const AVAIL = 0x101101000;
const USED = 0x101102000;
const BUF = 0x101200000;
const BUFS = 8;
const BUF_SIZE = 2048;
const BEAT = 0x101300000;
const MARK = 0x101300008;

// The attacker: brings up the virtio-net device at VIRTIO_NET as Linux's virtio_mmio does, posts
// BUFS device-writable receive buffers, then counts heartbeats in its RAM.
const RX_POSTER = `
  .globl _start
_start:
  li s0, ${VIRTIO_NET}
  sw zero, 0x70(s0)
  li t0, 1
  sw t0, 0x70(s0)
  li t0, 3
  sw t0, 0x70(s0)
  li t0, 1
  sw t0, 0x24(s0)
  sw t0, 0x20(s0)
  li t0, 11
  sw t0, 0x70(s0)
  sw zero, 0x30(s0)
  li t0, ${BUFS}
  sw t0, 0x38(s0)
  li t0, ${DESC}
  sw t0, 0x80(s0)
  srli t0, t0, 32
  sw t0, 0x84(s0)
  li t0, ${AVAIL}
  sw t0, 0x90(s0)
  srli t0, t0, 32
  sw t0, 0x94(s0)
  li t0, ${USED}
  sw t0, 0xa0(s0)
  srli t0, t0, 32
  sw t0, 0xa4(s0)
  li t1, ${DESC}
  li t2, ${BUF}
  li t3, ${BUFS}
1:sd t2, 0(t1)
  li t4, ${BUF_SIZE}
  sw t4, 8(t1)
  li t4, 2
  sh t4, 12(t1)
  sh zero, 14(t1)
  addi t1, t1, 16
  li t5, ${BUF_SIZE}
  add t2, t2, t5
  addi t3, t3, -1
  bnez t3, 1b
  li t1, ${AVAIL}
  li t3, 0
2:slli t4, t3, 1
  add t4, t4, t1
  sh t3, 4(t4)
  addi t3, t3, 1
  li t5, ${BUFS}
  blt t3, t5, 2b
  sh t3, 2(t1)
  li t0, 1
  sw t0, 0x44(s0)
  li t0, 15
  sw t0, 0x70(s0)
  sw zero, 0x50(s0)
  li t1, ${BEAT}
3:ld t2, 0(t1)
  addi t2, t2, 1
  sd t2, 0(t1)
  j 3b
`;

// The next owner of the attacker's CPU and RAM: leaves one mark and counts.
const NEXT_OWNER = `
  .globl _start
_start:
  li t0, ${MARK}
  li t1, 0x600d
  sd t1, 0(t0)
  li t0, ${BEAT}
1:ld t1, 0(t0)
  addi t1, t1, 1
  sd t1, 0(t0)
  j 1b
`;

/** zone0 (counter), the attacker zone 1 (virtio blk, console, net) and the next owner zone 2, on qemu-virt-riscv64. */
async function board(consolePort: number) {
  const dir = scratch('teardown-');
  const zone0 = counterZone0(dir);
  const ram = { type: 'ram', physical_start: `0x${ZONE_RAM.toString(16)}`, virtual_start: `0x${ZONE_RAM.toString(16)}`, size: `0x${ZONE_RAM_SIZE.toString(16)}` };
  const common = { cpus: [2], kernel_load_paddr: `0x${KERNEL.toString(16)}`, entry_point: `0x${KERNEL.toString(16)}`, dtb_load_paddr: '0x101f00000' };
  const attacker = riscvZone(dir, 'attacker.json', {
    ...common, name: 'attacker', zone_id: 1, interrupts: [6, 7, 8],
    memory_regions: [ram, { type: 'virtio', physical_start: '0x10006000', virtual_start: '0x10006000', size: '0x3000' }],
    kernel_filepath: assembleRiscv(RX_POSTER, KERNEL, 'attacker'),
  });
  const nextOwner = riscvZone(dir, 'next.json', { ...common, name: 'next-owner', zone_id: 2, memory_regions: [ram], kernel_filepath: assembleRiscv(NEXT_OWNER, KERNEL, 'next') });
  writeFileSync(join(dir, 'disk.img'), new Uint8Array(1 << 20));
  writeFileSync(join(dir, 'virtio.json'), JSON.stringify({
    zones: [{ id: 1, devices: [
      { type: 'blk', addr: '0x10006000', len: '0x200', irq: 6, img: 'disk.img' },
      { type: 'console', addr: '0x10007000', len: '0x200', irq: 7, tcp: consolePort },
      { type: 'net', addr: `0x${VIRTIO_NET.toString(16)}`, len: '0x200', irq: 8, mac: [0x52, 0x54, 0, 0, 0, 1] },
    ] }],
  }));
  // A run's virtio_cfg.json names only zones it starts: the attacker starts with the board, and is
  // shut down at once so that each test starts it itself.
  const instance = await launch({ board: 'qemu-virt-riscv64', zones: [zone0, attacker], virtio: join(dir, 'virtio.json'), gdbBasePort: false, output: () => {}, log: () => {} });
  instance.hypervisor.shutdownZone(1);
  await instance.hypervisor.released();
  return { instance, attacker, nextOwner };
}

/** The switch the zones' NICs join ("tap" absent in virtio_cfg.json), made now so a test port can be plugged first. */
function boardSwitch(instance: Instance): VirtualSwitch {
  const switches = instance.virtio!.switches;
  if (!switches.has('board')) switches.set('board', new VirtualSwitch());
  return switches.get('board')!;
}

const read64 = (hv: Hypervisor, at: number) => hv.machine.physical.read(at, 8)!;

/** Runs scheduler rounds until `done` holds (a guest reached a point; a zone may sit rounds out to pay back host time). */
function runUntil(hv: Hypervisor, done: () => boolean, rounds = 5000): void {
  for (let i = 0; i < rounds && !done(); i++) hv.scheduler.runRound();
  expect(done()).toBe(true);
}

/** A broadcast frame of `length` bytes of `fill`, as another NIC on the board switch sends it. */
function frame(fill: number, length = 200): Uint8Array {
  const f = new Uint8Array(length).fill(fill);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0, 0, 0x99], 0);
  return f;
}

async function startAttacker(hv: Hypervisor, file: string) {
  const zone = hv.startZoneFile(file);
  await hv.ready(zone);
  runUntil(hv, () => read64(hv, BEAT) > 0n); // the guest has posted its buffers
  return zone;
}

describe('zone teardown (issue 18, item 1)', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('a NIC with posted receive buffers writes nothing more once its zone is shut down; the next owner of the RAM finds only its own loading', async () => {
    const b = await onFreePort(board);
    instance = b.instance;
    const hv = instance.hypervisor;
    const sw = boardSwitch(instance);
    const peer = sw.attach('another zone', () => {});

    await startAttacker(hv, b.attacker);
    peer.send(frame(0xab));
    // The device works: the frame is in the first receive buffer (after the 12-byte virtio-net header).
    expect(hv.machine.physical.readDebug(BUF + 12 + 20, 4)).toEqual(Uint8Array.of(0xab, 0xab, 0xab, 0xab));

    hv.shutdownZone(1);
    await hv.released();
    expect(sw.portCount).toBe(1); // only the peer: the attacker's NIC is off the switch
    const next = hv.startZoneFile(b.nextOwner);
    runUntil(hv, () => read64(hv, MARK) === 0x600dn);
    for (let i = 0; i < 16; i++) peer.send(frame(0xcd));
    for (let i = 0; i < 10; i++) hv.scheduler.runRound();

    // Every non-zero byte of the RAM is the next owner's kernel, its device tree, or what it wrote.
    const kernel = readFileSync(next.config.kernelFilepath);
    const fdtHeader = hv.machine.physical.readDebug(next.config.dtbLoadPaddr, 8);
    const dtbSize = new DataView(fdtHeader.buffer, fdtHeader.byteOffset).getUint32(4); // FDT totalsize, big-endian
    const elfSegment = [KERNEL - 0x1000, KERNEL + 0x1000]; // the kernel's one segment: ELF headers and a few hundred bytes of text
    const own = [elfSegment, [next.config.dtbLoadPaddr, next.config.dtbLoadPaddr + dtbSize], [BEAT, MARK + 8]];
    expect(kernel.length).toBeGreaterThan(0);
    const ram = hv.machine.physical.readDebug(ZONE_RAM, ZONE_RAM_SIZE);
    const strays: string[] = [];
    for (let i = 0; i < ram.length && strays.length < 4; i++) {
      const at = ZONE_RAM + i;
      if (ram[i] !== 0 && !own.some(([lo, hi]) => at >= lo! && at < hi!)) strays.push(`0x${at.toString(16)}=0x${ram[i]!.toString(16)}`);
    }
    expect(strays).toEqual([]);
    expect(hv.zone(0)!.state).toBe('running');
  });

  it('hundreds of start/shutdown cycles of a zone with a disk image, a TCP console on a fixed port and a NIC keep fds, heap and switch ports flat', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const b = await onFreePort(board);
    instance = b.instance;
    const hv = instance.hypervisor;
    const virtio = instance.virtio!;
    const sw = boardSwitch(instance);
    const peer = sw.attach('another zone', () => {});
    const fds = () => readdirSync('/proc/self/fd').length;
    const cycle = async (n: number) => {
      await startAttacker(hv, b.attacker);
      peer.send(frame(n & 0xff));
      expect(hv.machine.physical.readDebug(BUF + 12 + 20, 1)[0]).toBe(n & 0xff);
      hv.shutdownZone(1);
      await hv.released();
    };
    // A closed socket's handle is freed by a weak callback after one collection: collect a few times.
    const collect = async () => {
      for (let k = 0; k < 4; k++) {
        gc();
        await new Promise((r) => setImmediate(r));
      }
    };
    for (let i = 0; i < 5; i++) await cycle(i); // warm-up: code paths compiled, pools sized
    await collect();
    const before = { fds: fds(), heap: process.memoryUsage().heapUsed, windows: virtio.windows.length };
    for (let i = 0; i < 300; i++) await cycle(i);
    await collect();
    const after = { fds: fds(), heap: process.memoryUsage().heapUsed, windows: virtio.windows.length };
    expect(after.fds).toBeLessThanOrEqual(before.fds);
    expect(after.windows).toBe(0);
    expect(sw.portCount).toBe(1);
    expect(after.heap - before.heap).toBeLessThan(4 << 20); // one leaked zone (its cores, devices, rings) is ~50 KiB
    expect(read64(hv, ZONE0_COUNTER)).toBeGreaterThan(0n); // zone0 ran throughout
  });
});
