/**
 * The Machine a board builds: models bound by `compatible` through the device registry are mapped
 * at their CPU-physical windows and get their interrupts as RoutedIrq lines numbered as zone
 * configs name them; a model that cannot be built leaves its node listed, unbound. Also the CLI
 * command itself, through yargs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findBoard } from '../../boards/index.js';
import { buildBoard } from '../../src/board/board-builder.js';
import { registerDevice } from '../../src/devices/registry.js';
import type { DeviceNodeDescription } from '../../src/devices/device-node.js';
import type { MmioDevice } from '../../src/machine/mmio-device.js';
import { RoutedIrq } from '../../src/machine/routed-irq.js';
import { boardCommand, boardList, showBoard } from '../../src/cli/commands/board.js';
import { fixture, fixtureMatching } from '../helpers/fixtures.js';
import { dtcCompile, dtcDecompile } from './dt-tools.js';
import { renderDts } from '../../boards/dts-source.js';

const seen: DeviceNodeDescription[] = [];
registerDevice({
  model: 'test-pl031',
  compatible: ['arm,pl031'],
  create(node): MmioDevice {
    seen.push(node);
    return { name: 'test-pl031', read: (offset) => 0xabc0_0000 + offset, write() {}, reset() {} };
  },
});
registerDevice({
  model: 'broken-goldfish',
  compatible: ['google,goldfish-rtc'],
  create(node) {
    throw new Error(`cannot model ${node.path}`);
  },
});

describe('board Machine', () => {
  it('maps a registered model at its window, with its clock and zone-numbered interrupt line', () => {
    const build = buildBoard(findBoard('qemu-virt-aarch64'));
    const { machine } = build;
    expect(machine.arch).toBe('aarch64');
    expect(machine.cpus.map((c) => c.hwid)).toEqual([0n, 1n, 2n, 3n]);
    expect(machine.ramBanks.map((b) => [b.base, b.size])).toEqual([[0x4000_0000, 2 * 2 ** 30]]);
    // Guest-physical accesses reach the model with window-relative offsets.
    expect(machine.physical.read(0x901_0008, 4)).toBe(BigInt(0xabc0_0008));
    expect(machine.deviceAt(0x901_0fff)?.path).toBe('/pl031@9010000');
    const node = seen.at(-1)!;
    expect(node.windows).toEqual([{ base: 0x901_0000, size: 0x1000 }]);
    expect(node.clockFrequency).toBe(24_000_000); // apb-pclk, through `clocks`
    expect(node.irqs).toHaveLength(1);
    const line = node.irqs[0] as RoutedIrq;
    expect(line).toBeInstanceOf(RoutedIrq);
    expect([line.number, line.source]).toEqual([34, 'SPI 2']);
    const rtc = machine.devices.find((d) => d.path === '/pl031@9010000')!;
    expect(rtc.modelName).toBe('test-pl031');
    expect(rtc.irqLines).toEqual([line]);
    // The hypervisor connects the line to the owning zone; until then raising it goes nowhere.
    const sink = vi.fn();
    line.set(true);
    line.connect({ set: sink, pulse() {} });
    expect(sink).toHaveBeenCalledWith(true); // a held level is delivered on connect
    // RAM is RAM: written and read back through the physical address space.
    expect(machine.physical.write(0x4000_1000, 8, 0x1122_3344_5566_7788n)).toBe(true);
    expect(machine.physical.read(0x4000_1000, 8)).toBe(0x1122_3344_5566_7788n);
    // Controllers and timers are per-zone models: no lines, no model.
    const gic = machine.devices.find((d) => d.role === 'interrupt-controller')!;
    expect([gic.model, gic.irqLines.length]).toEqual([undefined, 0]);
  });

  it('a model that cannot be built leaves the node listed and unbound, with the reason', () => {
    const build = buildBoard(findBoard('qemu-virt-riscv64'));
    const rtc = build.details.find((d) => d.instance.path === '/soc/rtc@101000')!;
    expect(rtc.instance.model).toBeUndefined();
    expect(rtc.modelError).toBe('broken-goldfish: cannot model /soc/rtc@101000');
    expect(build.machine.physical.read(0x10_1000, 4)).toBeUndefined();
    expect(rtc.instance.irqs).toEqual([11]);
  });

  it("a generated board's DTB (our DTS compiler and writer) is byte-identical to dtc's compile of the same source", () => {
    for (const [name, cpus] of [['qemu-virt-aarch64', 4], ['qemu-virt-aarch64-gicv2', 2], ['qemu-virt-riscv64', 3], ['ls3a5000-7a2000', 1]] as const) {
      const board = findBoard(name);
      const params = { cpus, memoryBytes: board.defaults.memoryBytes };
      const build = buildBoard(board, { params: { cpus } });
      expect(Buffer.from(build.machine.dtb).equals(Buffer.from(dtcCompile(renderDts(board.generateTree!(params))))), name).toBe(true);
      expect(build.machine.cpus).toHaveLength(cpus);
    }
  });
});

describe('hvisor board (yargs command)', () => {
  const logs: string[] = [];
  afterEach(() => {
    logs.length = 0;
    vi.restoreAllMocks();
  });
  async function run(args: string[]): Promise<string> {
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.join(' ')));
    await yargs(args).command(boardCommand).strict().fail((msg, err) => {
      throw err ?? new Error(msg);
    }).parseAsync();
    return logs.join('\n');
  }

  it('list names every board with its arch', async () => {
    const out = await run(['board', 'list']);
    for (const name of ['qemu-virt-aarch64', 'qemu-virt-aarch64-gicv2', 'qemu-virt-riscv64', 'qemu-virt-riscv64-aia', 'imx8mp-evk', 'zcu102', 'rk3568', 'rk3588', 'ls3a5000-7a2000']) {
      expect(out).toContain(name);
    }
    expect(out).toMatch(/loongarch64/);
    logs.length = 0;
    const json = JSON.parse(await run(['board', 'list', '--json']));
    expect(json.map((b: { name: string; generatedDeviceTree: boolean }) => [b.name, b.generatedDeviceTree])).toEqual([
      ['qemu-virt-aarch64', true], ['qemu-virt-aarch64-gicv2', true], ['qemu-virt-riscv64', true], ['qemu-virt-riscv64-aia', true],
      ['imx8mp-evk', false], ['zcu102', false], ['rk3568', false], ['rk3588', false], ['ls3a5000-7a2000', true],
    ]);
  });

  it('show --json is the showBoard data; the text view lists windows, IRQs and "no model"', async () => {
    const json = JSON.parse(await run(['board', 'show', 'qemu-virt-riscv64', '--json']));
    expect(json).toEqual(JSON.parse(JSON.stringify(showBoard({ name: 'qemu-virt-riscv64' }))));
    logs.length = 0;
    const text = (await run(['board', 'show', 'qemu-virt-riscv64'])).replace(/\x1b\[[0-9;]*m/g, '');
    expect(text).toContain('/soc/serial@10000000');
    expect(text).toMatch(/0x10000000\+0x100 irq 10 \(PLIC 10\)/);
    expect(text).toMatch(/0x30000000\+0x10000000 irq 32 \(PLIC 32\), 33 \(PLIC 33\), 34 \(PLIC 34\), 35 \(PLIC 35\)/);
    expect(text).toMatch(/\/soc\/virtio_mmio@10001000[\s\S]*0x10001000\+0x1000 irq 1 \(PLIC 1\)\s+→ (no model|virtio-mmio)/);
    expect(text).toContain('broken-goldfish: cannot model /soc/rtc@101000');
  });

  it('show renders every board (vendor boards with their Debian DTB): controller, memory, root zone', async () => {
    const vendor = fixtureMatching('debian/arm64-6.1/usr/lib', /^linux-image-/);
    const dtbs: Record<string, string> = {
      'imx8mp-evk': join(vendor, 'freescale/imx8mp-evk.dtb'),
      'zcu102': join(vendor, 'xilinx/zynqmp-zcu102-rev1.0.dtb'),
      'rk3568': join(vendor, 'rockchip/rk3568-evb1-v10.dtb'),
      'rk3588': fixture('dtbs-arm64-6.12/rockchip/rk3588-rock-5b.dtb'),
    };
    // Rockchip: hvisor has no root zone for them, and their DTBs carry no /memory (the board lays it out).
    const rockchip = new Set(['rk3568', 'rk3588']);
    for (const b of boardList()) {
      logs.length = 0;
      const text = (await run(['board', 'show', b.name, ...(dtbs[b.name] ? ['--dtb', dtbs[b.name]!] : [])])).replace(/\x1b\[[0-9;]*m/g, '');
      expect(text, b.name).toMatch(/^Interrupt controllers \(per-zone models\) \(\d+\)$/m);
      expect(text, b.name).toMatch(/^Memory/m);
      if (rockchip.has(b.name)) {
        expect(text, b.name).toMatch(/^Memory \(board layout: the DTB has no \/memory\)$/m);
        expect(text, b.name).not.toContain('Root zone (as hvisor compiles it)');
        continue;
      }
      expect(text, b.name).toContain('Root zone (as hvisor compiles it)');
      expect(text, b.name).toMatch(/^PCI host bridges \(1\)$/m);
    }
  });

  it('show --zone-config N prints that zone as hvisor-tool JSON; an unknown zone is a typed error', async () => {
    const root = JSON.parse(await run(['board', 'show', 'qemu-virt-aarch64', '--zone-config', '0']));
    expect(root).toMatchObject({ zone_id: 0, cpus: [0, 1], arch_config: { gic_version: 'v3', gicd_base: '0x8000000' } });
    logs.length = 0;
    const zone1 = JSON.parse(await run(['board', 'show', 'qemu-virt-riscv64', '--zone-config', '1']));
    expect(zone1).toMatchObject({ zone_id: 1, cpus: [2, 3], interrupts: [7, 34] });
    await expect(run(['board', 'show', 'zcu102', '--zone-config', '3'])).rejects.toThrow(/zcu102: zone-config 3 is not one of its zones \(0\)/);
  });

  it('show --dts prints the generated source', async () => {
    const chunks: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
    await run(['board', 'show', 'ls3a5000-7a2000', '--dts', '--cpus', '2']);
    const dts = chunks.join('');
    expect(dts.startsWith('/dts-v1/;')).toBe(true);
    // QEMU 7.2's tree with the interrupt path Linux drives (boards/ls3a5000-7a2000/interrupt-path.ts).
    const back = dtcDecompile(dtcCompile(dts));
    expect(back).toContain('compatible = "loongson,pch-pic-1.0";');
    expect(back).toContain('compatible = "loongson,ls2k2000-eiointc";');
  });

  it('show --dtb accepts an edited copy of the --dts source (compiled by our DTS compiler)', async () => {
    const chunks: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
    await run(['board', 'show', 'qemu-virt-riscv64', '--dts']);
    vi.mocked(process.stdout.write).mockRestore();
    const dir = mkdtempSync(join(tmpdir(), 'hvisor-board-'));
    try {
      const edited = join(dir, 'edited.dts');
      // The user disables the UART: it leaves the device list and is noted as disabled.
      writeFileSync(edited, chunks.join('').replace('compatible = "ns16550a";', 'compatible = "ns16550a";\n\t\t\tstatus = "disabled";'));
      const report = showBoard({ name: 'qemu-virt-riscv64', dtb: edited });
      const generated = showBoard({ name: 'qemu-virt-riscv64' });
      expect(report.devices.map((d) => d.path)).toEqual(generated.devices.map((d) => d.path).filter((p) => p !== '/soc/serial@10000000'));
      expect(report.disabled.map((d) => [d.path, d.status])).toEqual([['/soc/serial@10000000', 'disabled']]);
      expect(report.memory).toEqual(generated.memory);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
