import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Riscv64Cpu } from '../../src/arch/riscv64/riscv64-cpu.js';
import { Hypervisor } from '../../src/hypervisor/lifecycle/hypervisor.js';
import { qemuVirtRiscv64 } from './boards.js';
import { assembleRiscv, symbolAddress } from './riscv-asm.js';
import { configWithKernel } from './config-with-kernel.js';

const dir = join(import.meta.dirname, 'configs');


// zone0: counts in its RAM forever, after asking hvisor for the zone list through the SBI
// extension 0x114514 (a0 = code 4, a1 = buffer, a2 = count; the count comes back in a1).
const ZONE0 = `
  .globl _start
_start:
  li a7, 0x114514
  li a0, 4
  li a1, 0x80300000
  li a2, 4
  ecall
  li t0, 0x80100010
  sd a1, 0(t0)
  li t0, 0x80100000
1:ld t1, 0(t0)
  addi t1, t1, 1
  sd t1, 0(t0)
  j 1b
`;

// zone1 (hvisor-tool's qemu-riscv64 linux2 config): a heartbeat in its own RAM, then a probe of
// zone0's RAM, with no trap handler installed.
const ZONE1 = `
  .globl _start
_start:
  li t0, 0x83100000
  li t1, 0x1234
  sd t1, 0(t0)
  li t0, 0x80100008
probe:
  sd t1, 0(t0)
  j .
`;

describe('two zones on real riscv64 cores (programs built by GNU as)', () => {
  it('a guest probing another zone’s memory faults and stops; the other zone runs on untouched', () => {
    const { machine } = qemuVirtRiscv64();
    const log: string[] = [];
    const hv = new Hypervisor({
      machine,
      createCpu: ({ host, index, physical }) => new Riscv64Cpu(host, index, physical.id),
      timerFrequency: 10_000_000,
      log: (l) => log.push(l),
    });
    hv.startZoneFile(configWithKernel('qemu-riscv64-zone0.json', assembleRiscv(ZONE0, 0x80200000, 'zone0')));
    const zone1Elf = assembleRiscv(ZONE1, 0x84000000, 'zone1');
    hv.startZoneFile(configWithKernel('qemu-riscv64-linux2.json', zone1Elf));
    for (let i = 0; i < 3; i++) hv.scheduler.runRound();

    const z1 = hv.zone(1)!;
    expect(z1.state).toBe('crashed');
    const crash = z1.crash!;
    expect(crash.vcpu).toBe(0);
    expect(crash.pc).toBe(symbolAddress(zone1Elf, 'probe'));
    expect(crash.address).toBe(0x80100008n);
    expect(crash.cause).toMatch(/store.*fault/i);
    expect(machine.physical.read(0x83100000, 8)).toBe(0x1234n);
    expect(machine.physical.read(0x80100008, 8)).toBe(0n);
    expect(log.some((l) => l.startsWith('zone 1 (linux2): stage-2 fault: vCPU 0 pc 0x') && l.endsWith('write of 8 bytes at 0x80100008'))).toBe(true);
    expect(log).toContain(`zone 1 (linux2): crashed: vCPU 0 (CPU 3) pc 0x${crash.pc.toString(16)}: ${crash.cause} at 0x80100008`);

    const before = machine.physical.read(0x80100000, 8)!;
    expect(before).toBeGreaterThan(1000n);
    hv.scheduler.runRound();
    expect(machine.physical.read(0x80100000, 8)!).toBeGreaterThan(before);
    // Both zones existed before zone0's first instruction: the zone list hypercall answered 2.
    expect(machine.physical.read(0x80100010, 8)).toBe(2n);
    expect(machine.physical.read(0x80300000, 4)).toBe(0n); // zone_info[0].zone_id
    expect(Buffer.from(machine.physical.readDebug(0x80300010, 4)).toString()).toBe('root');
    expect(machine.physical.read(0x80300038, 4)).toBe(1n); // zone_info[1].zone_id
    expect(machine.physical.read(0x80300040, 8)).toBe(0b1000n); // zone_info[1].cpus: CPU 3
  });
});

describe('a zone on the QEMU virt riscv64 board built from its device tree', () => {
  it('boots with a0 = hart id and a1 = its generated device tree (the FDT magic is there)', async () => {
    const { buildBoard } = await import('../../src/board/board-builder.js');
    const { findBoard } = await import('../../boards/index.js');
    const { machine } = buildBoard(findBoard('qemu-virt-riscv64'));
    const hv = new Hypervisor({ machine, createCpu: ({ host, index, physical }) => new Riscv64Cpu(host, index, physical.id), timerFrequency: 10_000_000 });
    const elf = assembleRiscv(`
  .globl _start
_start:
  li t0, 0x83100000
  sd a0, 0(t0)
  lwu t1, 0(a1)
  sd t1, 8(t0)
  sd a1, 16(t0)
  j .
`, 0x84000000, 'bootargs');
    hv.startZoneFile(configWithKernel('qemu-riscv64-linux2.json', elf));
    hv.scheduler.runRound();
    expect(machine.physical.read(0x83100000, 8)).toBe(3n); // a0: the hart id of CPU 3
    expect(machine.physical.read(0x83100008, 8)).toBe(0xedfe0dd0n); // 0xd00dfeed, big-endian
    expect(machine.physical.read(0x83100010, 8)).toBe(0x83000000n); // a1 = dtb_load_paddr (identity)
  });
});

describe('zone0 drives the hypervisor with hvisor ecalls, as hvisor-tool does', () => {
  it('config check, zone start from a binary zone_config in its RAM, then zone shutdown', async () => {
    const { encodeZoneConfig, zoneConfigLayout } = await import('../../src/config/zone-config-binary.js');
    const { loadZoneConfig } = await import('../../src/config/zone-config.js');
    const { machine } = qemuVirtRiscv64();
    const hv = new Hypervisor({ machine, createCpu: ({ host, index, physical }) => new Riscv64Cpu(host, index, physical.id), timerFrequency: 10_000_000 });
    const size = zoneConfigLayout('riscv64').size;
    // a0 = code, a1/a2 = arguments; the value comes back in a1 (SBI), stored at 0x80100000 + 8*n.
    const root = assembleRiscv(`
  .globl _start
_start:
  li s0, 0x80100000
  li a7, 0x114514
  li a0, 6
  li a1, 0x80110000
  ecall
  sd a1, 0(s0)
  li a0, 2
  li a1, 0x80120000
  li a2, ${size}
  ecall
  sd a1, 8(s0)
wait:
  ld t0, 0x10(s0)
  beqz t0, wait
  li a0, 3
  li a1, 1
  ecall
  sd a1, 24(s0)
  j .
`, 0x80200000, 'manager');
    hv.startZoneFile(configWithKernel('qemu-riscv64-zone0.json', root));
    // What hvisor-tool does in zone0's user space: the image into zone1's RAM, the struct into its own.
    const guest = assembleRiscv(`
  .globl _start
_start:
  li t0, 0x83100000
  li t1, 0x600d
  sd t1, 0(t0)
  j .
`, 0x84000000, 'guest');
    const { parseElf64 } = await import('../../src/loader/elf.js');
    const bytes = readFileSync(guest);
    const seg = parseElf64(bytes).segments[0]!;
    machine.physical.writeDebug(Number(seg.paddr), bytes.subarray(seg.offset, seg.offset + seg.fileSize));
    const z1 = loadZoneConfig(join(dir, 'qemu-riscv64-linux2.json'));
    machine.physical.writeDebug(0x80120000, encodeZoneConfig({ ...z1, kernelLoadPaddr: Number(seg.paddr) }, 'riscv64', seg.fileSize, 0));
    hv.scheduler.runRound();
    expect(machine.physical.read(0x80110000, 8)).toBe(6n); // CONFIG_MAGIC_VERSION
    expect(machine.physical.read(0x80100008, 8)).toBe(0n); // zone start: ok
    expect(hv.list().map((z) => [z.id, z.name, z.state])).toEqual([[0, 'root', 'running'], [1, 'linux2', 'running']]);
    hv.scheduler.runRound();
    expect(machine.physical.read(0x83100000, 8)).toBe(0x600dn); // zone1 ran its image
    machine.physical.write(0x80100010, 8, 1n); // let zone0 go on: shut zone1 down
    hv.scheduler.runRound();
    expect(machine.physical.read(0x80100018, 8)).toBe(0n);
    expect(hv.list().map((z) => z.id)).toEqual([0]);
  });
});
