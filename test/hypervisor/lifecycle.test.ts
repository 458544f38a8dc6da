import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from '../helpers/fixtures.js';
import { Hypervisor, LifecycleError } from '../../src/hypervisor/lifecycle/hypervisor.js';
import { PartitionError } from '../../src/hypervisor/lifecycle/partition-check.js';
import { HypercallCode } from '../../src/hypervisor/lifecycle/hypercalls.js';
import { encodeZoneConfig, zoneConfigLayout } from '../../src/config/zone-config-binary.js';
import { ImageError } from '../../src/loader/image-error.js';
import { FakeCpu, Op, encode } from './fake-cpu.js';
import { qemuVirtAarch64 } from './boards.js';
import { config } from './zone-fixture.js';

const ENTRY0 = 0x40400000n;
const ENTRY1 = 0x50400000n;

function hypervisor() {
  const { machine } = qemuVirtAarch64();
  const log: string[] = [];
  const started: number[] = [];
  const removed: number[] = [];
  const hv = new Hypervisor({
    machine,
    createCpu: FakeCpu.factory(),
    timerFrequency: 1000,
    log: (l) => log.push(l),
    // Every runRound runs every zone: a slice that starts a zone takes host ms, and a loaded machine
    // must not make zone0 sit the next rounds out (the tests count rounds, not host time).
    scheduler: { sliceMs: Infinity },
    onZoneStarted: (z) => started.push(z.id),
    onZoneRemoved: (z) => removed.push(z.id),
  });
  return { hv, machine, log, started, removed };
}
const cpu = (hv: Hypervisor, zone: number, i = 0) => hv.zone(zone)!.cpus[i] as FakeCpu;

describe('zone lifecycle', () => {
  it('start, list, shutdown (resources freed), start again, restart; zone 0 cannot be shut down', () => {
    const { hv, started, removed } = hypervisor();
    hv.startZone(config(0), [{ name: 'k0', paddr: 0x40400000, data: encode([[Op.Inc, 0], [Op.Jump, 0, ENTRY0]]) }]);
    hv.startZone(config(1), [{ name: 'k1', paddr: 0x50400000, data: encode([[Op.Inc, 0], [Op.Jump, 0, ENTRY1]]) }]);
    expect(hv.list()).toEqual([
      { id: 0, name: 'root-linux', cpus: [0, 1], state: 'running', halted: false, stage2Faults: 0 },
      { id: 1, name: 'linux2', cpus: [2, 3], state: 'running', halted: false, stage2Faults: 0 },
    ]);
    // A second zone on zone1's CPUs is refused while zone1 runs...
    const clash = config(1, (j) => ((j.zone_id = 2), (j.name = 'clash')));
    expect(() => hv.startZone(clash)).toThrow(PartitionError);
    expect(() => hv.startZone(config(1))).toThrow(new LifecycleError(16, 'zone 1 is already running (qemu-aarch64-zone1_linux_with_pci.json)'));
    hv.scheduler.runRound();
    hv.shutdownZone(1);
    expect(hv.list().map((z) => z.id)).toEqual([0]);
    expect(removed).toEqual([1]);
    // ...and accepted once zone1 is gone.
    hv.startZone(clash, [{ name: 'k2', paddr: 0x50400000, data: encode([[Op.Nop, 0]]) }]);
    expect(started).toEqual([0, 1, 2]);
    expect(() => hv.shutdownZone(0)).toThrow('zone 0 is the root zone and cannot be shut down');
    expect(() => hv.shutdownZone(7)).toThrow('zone 7 not found');
    hv.scheduler.runRound();
    expect(cpu(hv, 0).r[1]).toBeGreaterThan(0n);
    hv.restartZone(0);
    expect(cpu(hv, 0).pc).toBe(ENTRY0);
  });

  it('starts a zone from a config file: raw kernel at kernel_load_paddr, dtb at dtb_load_paddr, x0 = dtb', () => {
    const { hv, machine } = hypervisor();
    const dir = mkdtempSync(join(tmpdir(), 'zone-'));
    const j = JSON.parse(readFileSync(join(import.meta.dirname, 'configs', 'qemu-aarch64-zone1_linux_with_pci.json'), 'utf8'));
    writeFileSync(join(dir, 'Image'), encode([[Op.Inc, 0], [Op.Jump, 0, ENTRY1]]));
    writeFileSync(join(dir, 'linux2.dtb'), Uint8Array.of(0xd0, 0x0d, 0xfe, 0xed));
    writeFileSync(join(dir, 'zone1.json'), JSON.stringify(j));
    const z = hv.startZoneFile(join(dir, 'zone1.json'));
    expect(machine.physical.read(0x50000000, 4)).toBe(0xedfe0dd0n);
    expect(machine.physical.read(0x50400000, 4)).toBe(BigInt(Op.Inc));
    expect((z.cpus[0] as FakeCpu).bootArgs[0]).toBe(0x50000000n);
    j.dtb_filepath = './missing.dtb';
    j.zone_id = 3;
    j.cpus = [1];
    j.memory_regions = [{ type: 'ram', physical_start: '0x48000000', virtual_start: '0x48000000', size: '0x1000000' }];
    writeFileSync(join(dir, 'zone3.json'), JSON.stringify(j));
    expect(() => hv.startZoneFile(join(dir, 'zone3.json'))).toThrow(ImageError);
    expect(() => hv.startZoneFile(join(dir, 'zone3.json'))).toThrow(/missing\.dtb: .*zone3\.json: dtb_filepath cannot be read/);
  });

  it('loads an ELF kernel by its segments (ELF made by GNU ld)', () => {
    const { hv, machine } = hypervisor();
    const dir = mkdtempSync(join(tmpdir(), 'elf-'));
    writeFileSync(join(dir, 'prog.bin'), encode([[Op.Inc, 0], [Op.Jump, 0, ENTRY1 + 0x1000n]]));
    const objcopy = tool('aarch64-linux-gnu-objcopy');
    const ld = tool('aarch64-linux-gnu-ld');
    execFileSync(objcopy, ['-I', 'binary', '-O', 'elf64-littleaarch64', '--rename-section', '.data=.text,contents,alloc,load,readonly,code', 'prog.bin', 'prog.o'], { cwd: dir });
    execFileSync(ld, ['-Ttext=0x50401000', '-e', '0x50401000', '-o', 'prog.elf', 'prog.o'], { cwd: dir });
    const j = JSON.parse(readFileSync(join(import.meta.dirname, 'configs', 'qemu-aarch64-zone1_linux_with_pci.json'), 'utf8'));
    j.kernel_filepath = 'prog.elf';
    j.dtb_filepath = '';
    j.entry_point = '0x50401000';
    writeFileSync(join(dir, 'zone1.json'), JSON.stringify(j));
    hv.startZoneFile(join(dir, 'zone1.json'));
    expect(machine.physical.read(0x50401000, 4)).toBe(BigInt(Op.Inc));
    expect(machine.physical.read(0x50400000, 4)).toBe(0x464c457fn); // the segment starts with the ELF header (p_offset 0)
    hv.scheduler.runRound();
    expect(cpu(hv, 1).r[1]).toBeGreaterThan(100n);
  });
});

describe('hvisor hypercalls from zone0', () => {
  it('config check, zone start from a binary config, zone list, shutdown; refused from other zones', () => {
    const { hv, machine } = hypervisor();
    const CFG = 0x41000000n;
    const LIST = 0x41010000n;
    const MAGIC = 0x41020000n;
    const size = BigInt(zoneConfigLayout('aarch64').size);
    // zone0's "management guest": check the magic, start zone1, list, then shut zone1 down when r1 says so.
    const program: [number, number, bigint?][] = [
      [Op.Hvc, Number(HypercallCode.ConfigCheck), MAGIC],
      [Op.SetR1, 0, size],
      [Op.Hvc, Number(HypercallCode.ZoneStart), CFG],
      [Op.Store, 0, 0x41030000n], // r0 is not stored by Store; keep results via memory reads below
      [Op.SetR1, 0, 8n],
      [Op.Hvc, Number(HypercallCode.ZoneList), LIST],
      [Op.WaitIrq, 0],
      [Op.Hvc, Number(HypercallCode.ZoneShutdown), 1n],
      [Op.Hvc, Number(HypercallCode.ZoneShutdown), 0n],
      [Op.WaitIrq, 0],
    ];
    hv.startZone(config(0), [{ name: 'k0', paddr: 0x40400000, data: encode(program) }]);
    // What hvisor-tool does before the hypercall: images into zone1's RAM, the config into zone0's.
    const z1 = config(1);
    const kernel = encode([[Op.Hvc, Number(HypercallCode.ZoneShutdown), 0n], [Op.Inc, 0], [Op.Jump, 0, ENTRY1 + 16n]]);
    machine.physical.writeDebug(0x50400000, kernel);
    machine.physical.writeDebug(Number(CFG), encodeZoneConfig(z1, 'aarch64', kernel.length, 0));
    const z0cpu = cpu(hv, 0);
    hv.scheduler.runRound();
    expect(machine.physical.read(Number(MAGIC), 8)).toBe(6n);
    expect(hv.list().map((z) => [z.id, z.name, z.cpus])).toEqual([[0, 'root-linux', [0, 1]], [1, 'linux2', [2, 3]]]);
    expect(z0cpu.r[0]).toBe(2n); // zone list returned 2 entries
    const info = machine.physical.readDebug(Number(LIST), 112);
    const v = new DataView(info.buffer, info.byteOffset);
    expect([v.getUint32(0, true), v.getBigUint64(8, true), Buffer.from(info.subarray(16, 26)).toString(), v.getUint8(48)]).toEqual([0, 0b11n, 'root-linux', 0]);
    expect([v.getUint32(56, true), v.getBigUint64(64, true), Buffer.from(info.subarray(72, 78)).toString()]).toEqual([1, 0b1100n, 'linux2']);
    // zone1 tried to shut zone0 down: EPERM, and runs on.
    hv.scheduler.runRound();
    expect(cpu(hv, 1).r[0]).toBe(BigInt.asUintN(64, -1n));
    expect(hv.zone(1)!.state).toBe('running');
    // Wake zone0: it shuts zone1 down, then fails to shut itself down (EINVAL).
    z0cpu.setInterrupt(0, true);
    hv.zone(0)!.kick(0);
    hv.scheduler.runRound();
    expect(hv.zone(1)).toBeUndefined();
    expect(z0cpu.r[0]).toBe(BigInt.asUintN(64, -22n));
  });

  it('refuses a wrong config size, a config outside zone0 RAM, and an overlapping zone', () => {
    const { hv, machine, log } = hypervisor();
    const size = BigInt(zoneConfigLayout('aarch64').size);
    const zone0 = hv.startZone(config(0), [{ name: 'k0', paddr: 0x40400000, data: encode([[Op.WaitIrq, 0]]) }]);
    expect(zone0.hypercall(HypercallCode.ZoneStart, [0x41000000n, 100n])).toBe(BigInt.asUintN(64, -22n));
    expect(log.at(-1)).toBe(`zone 0 (root-linux): hypercall refused (-22): zone start: config size should be ${size} bytes (CONFIG_MAGIC_VERSION 6), but got 100`);
    expect(zone0.hypercall(HypercallCode.ZoneStart, [0x50000000n, size])).toBe(BigInt.asUintN(64, -22n));
    expect(log.at(-1)).toContain("config at 0x50000000 is not in zone 0's RAM");
    const thief = config(1, (j) => (j.memory_regions[0].physical_start = '0x4f000000'));
    machine.physical.writeDebug(0x41000000, encodeZoneConfig(thief, 'aarch64'));
    expect(zone0.hypercall(HypercallCode.ZoneStart, [0x41000000n, size])).toBe(BigInt.asUintN(64, -22n));
    expect(log.at(-1)).toMatch(/hypercall refused \(-22\): physical \[0x4f000000, 0x50000000\) is claimed by both zone 0/);
    expect(hv.list()).toHaveLength(1);
    expect(zone0.hypercall(99n, [])).toBe(0n);
  });
});
