import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, tool } from '../helpers/fixtures.js';
import { findBoard } from '../../boards/index.js';
import { buildBoard } from '../../src/board/board-builder.js';
import { loadZoneConfig, zoneConfigFromJson } from '../../src/config/zone-config.js';
import { generateZoneDtb } from '../../src/hypervisor/lifecycle/zone-dtb.js';

const configs = join(import.meta.dirname, 'configs');

/** dtc's view of a blob: its DTS text and its warnings (with the file name stripped). */
function dtc(blob: Uint8Array): { dts: string; warnings: string[] } {
  const file = join(mkdtempSync(join(tmpdir(), 'zdtb-')), 'zone.dtb');
  writeFileSync(file, blob);
  const r = spawnSync(tool('dtc'), ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dtc failed: ${r.stderr}`);
  const warnings = r.stderr.split('\n').filter((l) => l.includes('Warning')).map((l) => l.slice(l.indexOf('Warning')).replace(/\/cpus\/cpu@\d+/, '/cpus/cpu@N'));
  return { dts: r.stdout, warnings: [...new Set(warnings)] };
}

const nodeNames = (dts: string) => [...dts.matchAll(/^\t+([^\t\n]+) \{$/gm)].map((m) => m[1]);

describe('zone device trees from the board DTB and the zone config (dtc as the reader)', () => {
  it("hvisor's zone0 (qemu-gicv3 platform): hvisor_virtio_device with the wake-up SPI, no-map reserved-memory over the RAM it lends", () => {
    const { machine } = buildBoard(findBoard('qemu-virt-aarch64'));
    const json = JSON.parse(readFileSync(join(configs, 'qemu-aarch64-zone0.json'), 'utf8'));
    json.memory_regions[0] = { type: 'ram', physical_start: '0x50000000', virtual_start: '0x50000000', size: '0x70000000' };
    json.reserved_memory = [{ start: '0x50000000', size: '0x30000000' }];
    const out = dtc(generateZoneDtb(machine, zoneConfigFromJson(json, 'zone0.json')).blob).dts;
    const gic = /intc@8000000 \{[^}]*?phandle = <(0x[0-9a-f]+)>/.exec(out)?.[1];
    expect(gic).toBeDefined();
    // As hvisor's platform/aarch64/qemu-gicv3/image/dts/zone0.dts has them (what hvisor.ko looks up by path).
    expect(out).toMatch(new RegExp(`hvisor_virtio_device \\{\\s*compatible = "hvisor";\\s*interrupt-parent = <${gic}>;\\s*interrupts = <0x00 0x20 0x01>;\\s*\\};`));
    expect(out).toMatch(/reserved-memory \{\s*#address-cells = <0x02>;\s*#size-cells = <0x02>;\s*ranges;\s*nonroot@50000000 \{\s*no-map;\s*reg = <0x00 0x50000000 0x00 0x30000000>;\s*\};/);
    expect(out).toContain('memory@50000000 {');
    // Without the wake-up interrupt in the zone's interrupts there is no node; nonroot zones never get one.
    json.interrupts = [33];
    expect(dtc(generateZoneDtb(machine, zoneConfigFromJson(json, 'zone0.json')).blob).dts).not.toContain('hvisor_virtio_device');
    const zone1 = loadZoneConfig(join(configs, 'qemu-aarch64-zone1_linux_with_pci.json'));
    expect(dtc(generateZoneDtb(machine, { ...zone1, interrupts: [...zone1.interrupts, 64] }).blob).dts).not.toMatch(/hvisor_virtio_device|reserved-memory/);
  });

  it('hvisor-tool’s qemu-aarch64 zone1: its CPUs, its RAM, the two virtio slots it owns the SPIs of, GICv3 trimmed, ECAM host', () => {
    const { machine } = buildBoard(findBoard('qemu-virt-aarch64'));
    const zone = loadZoneConfig(join(configs, 'qemu-aarch64-zone1_linux_with_pci.json'));
    const { blob, report } = generateZoneDtb(machine, zone);
    const board = dtc(machine.dtb);
    const out = dtc(blob);
    expect(out.warnings.filter((w) => !board.warnings.includes(w))).toEqual([]);
    const names = nodeNames(out.dts);
    expect(names.filter((n) => n!.startsWith('cpu@'))).toEqual(['cpu@2', 'cpu@3']);
    expect(names.filter((n) => n!.startsWith('memory@'))).toEqual(['memory@50000000']);
    expect(out.dts).toContain('reg = <0x00 0x50000000 0x00 0x30000000>;');
    // SPIs 44 and 46 (INTIDs 76, 78) are the zone's: the slots at 0xa003800 and 0xa003c00.
    expect(names.filter((n) => n!.startsWith('virtio_mmio@'))).toEqual(['virtio_mmio@a003800', 'virtio_mmio@a003c00']);
    expect(names).not.toContain('pl011@9000000');
    expect(names).toContain('its@8080000'); // gits_size: the zone's own ITS model
    expect(out.dts).toMatch(/intc@8000000 \{[^}]*reg = <0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 0x40000>;/);
    expect(names.some((n) => n!.startsWith('pcie@'))).toBe(true);
    expect(out.dts).toContain('msi-map');
    expect(report.removed).toContain('/pl011@9000000');
    expect(names).not.toContain('cpu-map');
  });

  it('served virtio slots only, bootargs from kernel_args', () => {
    const { machine } = buildBoard(findBoard('qemu-virt-aarch64'));
    const zone = { ...loadZoneConfig(join(configs, 'qemu-aarch64-zone1_linux_with_pci.json')), kernelArgs: 'console=hvc0 earlycon' };
    const { dts } = dtc(generateZoneDtb(machine, zone, { servedVirtio: [{ base: 0xa003c00, size: 0x200 }] }).blob);
    expect(nodeNames(dts).filter((n) => n!.startsWith('virtio_mmio@'))).toEqual(['virtio_mmio@a003c00']);
    expect(dts).toMatch(/chosen \{\s*bootargs = "console=hvc0 earlycon";/);
  });

  it("hvisor-tool's zcu102 zone1 on the vendor DTB: virtio_mmio nodes where it serves devices (the USB controllers' addresses), the USB nodes gone", () => {
    const { machine } = buildBoard(findBoard('zcu102'), { dtb: readFileSync(fixture('dtbs-arm64/xilinx/zynqmp-zcu102-rev1.0.dtb')) });
    const zone = loadZoneConfig(join(import.meta.dirname, '../../boards/guests/aarch64/zcu102-zone1-linux.json'));
    const devices = [{ base: 0xff9d_0000, size: 0x200, irq: 78 }, { base: 0xff9e_0000, size: 0x200, irq: 76 }, { base: 0xa00_0000, size: 0x200, irq: 77 }];
    const { blob, report } = generateZoneDtb(machine, zone, { virtioDevices: devices });
    const { dts, warnings } = dtc(blob);
    // Outside the zone's virtio regions (0xa000000): none.
    expect(nodeNames(dts).filter((n) => n!.startsWith('virtio_mmio@'))).toEqual(['virtio_mmio@ff9d0000', 'virtio_mmio@ff9e0000']);
    const gic = /interrupt-controller@f9010000 \{[^}]*phandle = <(0x[0-9a-f]+)>/.exec(dts)![1];
    expect(dts).toMatch(new RegExp(`virtio_mmio@ff9e0000 \\{[^}]*compatible = "virtio,mmio";[^}]*reg = <0x00 0xff9e0000 0x00 0x200>;[^}]*interrupt-parent = <${gic}>;[^}]*interrupts = <0x00 0x2c 0x04>;`));
    expect(report.removed.some((p) => p.includes('usb@ff9d0000'))).toBe(true);
    expect(warnings.filter((w) => w.includes('virtio'))).toEqual([]);
  });

  it("the RK3588 zone0 on Debian's rock-5b DTB: the SoC blocks it owns, the SCMI channel under reserved-memory; /timer@feae0000 is a device, not the architected /timer", () => {
    const { machine } = buildBoard(findBoard('rk3588'), { dtb: readFileSync(fixture('dtbs-arm64-6.12/rockchip/rk3588-rock-5b.dtb')) });
    const zone = loadZoneConfig(join(import.meta.dirname, '../../boards/guests/aarch64/rk3588-zone0-linux.json'));
    const { blob, report } = generateZoneDtb(machine, zone);
    const { dts } = dtc(blob);
    for (const kept of ['/serial@feb50000', '/clock-controller@fd7c0000', '/syscon@fd5f0000', '/pinctrl/gpio@fec30000']) expect(report.kept, kept).toContain(kept);
    expect(dts).toMatch(/shmem@10f000 \{\s*compatible = "arm,scmi-shmem";/);
    expect(dts).toMatch(/^\ttimer \{$/m);
    expect(report.removed).toContain('/timer@feae0000');
    expect(dts).toContain('memory@200000 {');
    // PPI partitions: the little cluster's keeps only the zone's CPU; the big cluster's goes with the PMU that names it.
    const cpu0 = /cpu@0 \{[^}]*?phandle = <(0x[0-9a-f]+)>/.exec(dts)![1];
    expect(dts).toMatch(new RegExp(`interrupt-partition-0 \\{\\s*affinity = <${cpu0}>;`));
    expect(dts).not.toContain('interrupt-partition-1');
    expect(report.removed).toContain('/pmu-a76');
    expect(dts).toContain('pmu-a55 {');
  });

  it('loongarch64 nonroot zone on board core 2: its CPU is cpu@0 (the core number its vCPU reads), its RAM, the virtio slot on its own PCH-PIC, no UART', () => {
    const { machine } = buildBoard(findBoard('ls3a5000-7a2000'));
    const zone = zoneConfigFromJson(
      {
        arch: 'loongarch64', name: 'linux1', zone_id: 1, cpus: [2],
        memory_regions: [
          { type: 'ram', physical_start: '0x90000000', virtual_start: '0x0', size: '0x10000000' },
          { type: 'virtio', physical_start: '0x30001000', virtual_start: '0x30001000', size: '0x200' },
        ],
        interrupts: [4], ivc_configs: [], kernel_filepath: 'vmlinuz', dtb_filepath: '', kernel_load_paddr: '0x90200000',
        dtb_load_paddr: '0x90100000', entry_point: '0x90200000', arch_config: {}, pci_config: [], num_pci_devs: 0, alloc_pci_devs: [],
      },
      'zone1.json',
    );
    const { dts, warnings } = dtc(generateZoneDtb(machine, zone, { virtioDevices: [{ base: 0x3000_1000, size: 0x200, irq: 4 }] }).blob);
    const names = nodeNames(dts);
    expect(names.filter((n) => n!.startsWith('cpu@'))).toEqual(['cpu@0']);
    expect(dts).toMatch(/cpu@0 \{[^}]*reg = <0x00>;/);
    expect(names.filter((n) => n!.startsWith('memory@'))).toEqual(['memory@0']);
    expect(dts).toContain('reg = <0x00 0x00 0x00 0x10000000>;');
    const pic = /intc@10000000 \{[^}]*phandle = <(0x[0-9a-f]+)>/.exec(dts)![1];
    expect(dts).toMatch(new RegExp(`virtio_mmio@30001000 \\{[^}]*reg = <0x00 0x30001000 0x00 0x200>;[^}]*interrupt-parent = <${pic}>;[^}]*interrupts = <0x04 0x04>;`));
    expect(names.some((n) => n!.startsWith('serial@') || n!.startsWith('rtc@') || n!.startsWith('pcie@'))).toBe(false);
    const board = dtc(machine.dtb);
    expect(warnings.filter((w) => !board.warnings.includes(w))).toEqual([]);
  });

  it('riscv64: PLIC contexts only for the zone’s harts; passed-through slots kept; no new dtc warnings', () => {
    const { machine } = buildBoard(findBoard('qemu-virt-riscv64'));
    const zone = loadZoneConfig(join(configs, 'qemu-riscv64-linux2.json'));
    const { blob, report } = generateZoneDtb(machine, zone);
    // hvisor-tool's example passes the slots through without their PLIC sources 6 and 7.
    expect([...report.warnings].sort()).toEqual([
      "/soc/virtio_mmio@10006000: interrupt 6 is not in the zone's interrupts: the device cannot interrupt",
      "/soc/virtio_mmio@10007000: interrupt 7 is not in the zone's interrupts: the device cannot interrupt",
    ]);
    const board = dtc(machine.dtb);
    const out = dtc(blob);
    expect(out.warnings.filter((w) => !board.warnings.includes(w))).toEqual([]);
    const names = nodeNames(out.dts);
    expect(names.filter((n) => n!.startsWith('cpu@'))).toEqual(['cpu@3']);
    expect(names.filter((n) => n!.startsWith('virtio_mmio@'))).toEqual(['virtio_mmio@10007000', 'virtio_mmio@10006000']); // QEMU's node order
    expect(names).not.toContain('clint@2000000');
    expect(names).not.toContain('poweroff');
    // One hart: its M and S contexts (causes 11 and 9) on its own interrupt controller.
    const hartIntc = /cpu@3 \{[\s\S]*?interrupt-controller \{[\s\S]*?phandle = <(0x[0-9a-f]+)>;/.exec(out.dts)![1];
    expect(out.dts).toContain(`interrupts-extended = <${hartIntc} 0x0b ${hartIntc} 0x09>;`);
    expect(names.filter((n) => n!.startsWith('memory@'))).toEqual(['memory@83000000']);
  });

  it('riscv64 AIA (hvisor\'s qemu-aia root zone): the S-level APLIC and its IMSIC with one page per zone hart; the M-level ones gone', () => {
    const b = findBoard('qemu-virt-riscv64-aia');
    const { machine } = buildBoard(b);
    const { blob, report } = generateZoneDtb(machine, zoneConfigFromJson(b.rootZone!, b.name));
    const out = dtc(blob);
    const names = nodeNames(out.dts);
    expect(names.filter((n) => n!.startsWith('cpu@'))).toEqual(['cpu@0', 'cpu@1', 'cpu@2']);
    expect(names.filter((n) => /^(aplic|imsics)@/.test(n!))).toEqual(['aplic@d000000', 'imsics@28000000']);
    expect(report.removed).toEqual(expect.arrayContaining(['/soc/aplic@c000000', '/soc/imsics@24000000']));
    const imsic = /imsics@28000000 \{([^}]*)\}/.exec(out.dts)![1]!;
    expect(imsic).toContain('reg = <0x00 0x28000000 0x00 0x3000>;');
    expect(imsic).not.toContain('guest-index-bits');
    const intcs = [...out.dts.matchAll(/cpu@\d \{[\s\S]*?interrupt-controller \{[\s\S]*?phandle = <(0x[0-9a-f]+)>;/g)].map((m) => m[1]);
    expect(imsic).toContain(`interrupts-extended = <${intcs.map((p) => `${p} 0x09`).join(' ')}>;`);
    const aplicPhandle = /aplic@d000000 \{[^}]*phandle = <(0x[0-9a-f]+)>;/.exec(out.dts)![1];
    expect(out.dts).toMatch(new RegExp(`serial@10000000 \\{[^}]*interrupt-parent = <${aplicPhandle}>;`));
    expect(out.dts).toMatch(/riscv,isa = "rv64imafdch?_\S*_ssaia_\S*";/);
  });

  it('riscv64: a config naming both plic_* and aplic_* (hvisor-tool\'s, hvisor\'s qemu-aia zone1) gets the AIA on the AIA board, the PLIC on the PLIC board', () => {
    const zone1 = findBoard('qemu-virt-riscv64-aia').exampleZones[0]!;
    const arch = zoneConfigFromJson(zone1, 'zone1').archConfig;
    expect(arch.kind === 'riscv' && arch.plicSize > 0 && arch.aplicSize > 0).toBe(true);
    const controllers = (board: string) => {
      const names = nodeNames(dtc(generateZoneDtb(buildBoard(findBoard(board)).machine, zoneConfigFromJson(zone1, board)).blob).dts);
      return names.filter((n) => /^(plic|aplic|imsics)@/.test(n!));
    };
    expect(controllers('qemu-virt-riscv64-aia')).toEqual(['aplic@d000000', 'imsics@28000000']);
    expect(controllers('qemu-virt-riscv64')).toEqual(['plic@c000000']);
  });

  it('the boards’ own root and example zones all give dtc-clean trees', () => {
    for (const name of ['qemu-virt-aarch64', 'qemu-virt-riscv64', 'qemu-virt-riscv64-aia']) {
      const b = findBoard(name);
      const { machine } = buildBoard(b);
      const baseline = dtc(machine.dtb).warnings;
      for (const j of [b.rootZone!, ...b.exampleZones]) {
        const z = zoneConfigFromJson(j, name);
        const out = dtc(generateZoneDtb(machine, z).blob);
        expect(out.warnings.filter((w) => !baseline.includes(w)), `${name} zone ${z.zoneId}`).toEqual([]);
        // dtc can compile our output back to the same blob's DTS (a round trip through the oracle).
        const again = execFileSync(tool('dtc'), ['-I', 'dts', '-O', 'dts', '-q'], { input: out.dts, encoding: 'utf8' });
        expect(again).toBe(out.dts);
      }
    }
  });
});
