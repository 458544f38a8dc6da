/**
 * Bring-up on a vendor DTB without writing a zone config: `hvisor run --kernel` makes one zone of the
 * whole board (bring-up-zone.ts), `hvisor zone dtb --dtb` makes a zone DTB from a vendor board's DTB,
 * and a DTB made for another SoC is refused unless --force. Expected addresses and interrupts come
 * from dtc's reading of Debian's i.MX8MP EVK DTB; the kernel is Debian's arm64 Image.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { findBoard } from '../../boards/index.js';
import { buildBoard } from '../../src/board/board-builder.js';
import { bringUpZone } from '../../src/board/bring-up-zone.js';
import { zoneCommand } from '../../src/cli/commands/zone.js';
import { zoneConfigFromJson } from '../../src/config/zone-config.js';
import { checkPartition } from '../../src/hypervisor/lifecycle/partition-check.js';
import { parseArm64ImageHeader } from '../../src/loader/arm64-image.js';
import { fixtureMatching } from '../helpers/fixtures.js';
import { dtcDecompile } from '../boards/dt-tools.js';
import { cellsOf, compatibleOf, cpuWindows, parseDtcText, walk } from '../boards/dtc-text.js';

const debian = (relative: string) => join(fixtureMatching('debian/arm64-6.1/usr/lib', /^linux-image-/), relative);
const IMX = () => debian('freescale/imx8mp-evk.dtb');

async function zoneCli(args: string[]): Promise<void> {
  await yargs(args).command(zoneCommand).strict().fail((msg, err) => {
    throw err ?? new Error(msg);
  }).parseAsync();
}

describe('bring-up zone on a vendor DTB', () => {
  it('i.MX8MP EVK: every CPU, both RAM banks, UART2 with its interrupt, the DTB\'s GICv3; the kernel 2 MiB into RAM', () => {
    const kernelPath = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    const kernel = readFileSync(kernelPath);
    const build = buildBoard(findBoard('imx8mp-evk'), { dtb: readFileSync(IMX()) });
    const json = bringUpZone(build, { kernel: { path: kernelPath, bytes: kernel }, append: 'console=ttymxc1,115200' });
    const config = zoneConfigFromJson(json, 'bring-up.json');
    expect(() => checkPartition(build.machine, [config])).not.toThrow();

    const root = parseDtcText(dtcDecompile(IMX()));
    const nodes = [...walk(root)];
    const uart2 = nodes.find((n) => n.path.endsWith('/serial@30890000'))!;
    const [uartWindow] = cpuWindows(uart2);
    const uartIrq = cellsOf(uart2, 'interrupts')![1]! + 32; // GIC_SPI n
    expect(config.memoryRegions.some((r) => r.type === 'io' && r.physicalStart <= uartWindow!.base && uartWindow!.base + uartWindow!.size <= r.physicalStart + r.size)).toBe(true);
    expect(config.interrupts).toContain(uartIrq);
    const memory = nodes.filter((n) => n.props.get('device_type') === '"memory"').flatMap(cpuWindows);
    expect(config.memoryRegions.filter((r) => r.type === 'ram').map((r) => [r.physicalStart, r.size])).toEqual(memory.map((m) => [m.base, m.size]));
    const gic = cpuWindows(nodes.find((n) => compatibleOf(n).includes('arm,gic-v3'))!);
    expect(config.archConfig).toMatchObject({ kind: 'gicv3', gicdBase: gic[0]!.base, gicdSize: gic[0]!.size, gicrBase: gic[1]!.base, gicrSize: gic[1]!.size });
    expect(config.cpus).toEqual([0, 1, 2, 3]);
    expect(config.kernelArgs).toBe('console=ttymxc1,115200');

    const header = parseArm64ImageHeader(kernel);
    expect(Number(config.entryPoint)).toBe(memory[0]!.base + 0x20_0000 + header.textOffset);
    // The device tree lies past the kernel's whole footprint (bss included), 2 MiB aligned.
    expect(config.dtbLoadPaddr).toBeGreaterThanOrEqual(config.kernelLoadPaddr + header.imageSize);
    expect(config.dtbLoadPaddr % 0x20_0000).toBe(0);
  });

  it('RK3568 EVB1: its 60-odd device windows (32-byte QoS blocks among them) fit hvisor\'s 64 regions as whole pages, each window inside one', () => {
    const kernelPath = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    const dtb = debian('rockchip/rk3568-evb1-v10.dtb');
    const build = buildBoard(findBoard('rk3568'), { dtb: readFileSync(dtb) });
    const config = zoneConfigFromJson(bringUpZone(build, { kernel: { path: kernelPath, bytes: readFileSync(kernelPath) } }), 'bring-up.json');
    expect(() => checkPartition(build.machine, [config])).not.toThrow();
    const io = config.memoryRegions.filter((r) => r.type === 'io');
    for (const r of io) expect([r.physicalStart % 0x1000, r.size % 0x1000]).toEqual([0, 0]);
    const windows = build.machine.devices.filter((d) => d.role !== 'interrupt-controller').flatMap((d) => d.windows);
    expect(windows.length).toBeGreaterThan(64);
    for (const w of windows) expect(io.some((r) => r.physicalStart <= w.base && w.base + w.size <= r.physicalStart + r.size), `0x${w.base.toString(16)}`).toBe(true);
  });

  it('hvisor zone dtb --dtb: the zone DTB keeps UART2 with its bus; another SoC\'s DTB is refused unless --force', async () => {
    const kernelPath = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    const build = buildBoard(findBoard('imx8mp-evk'), { dtb: readFileSync(IMX()) });
    const dir = mkdtempSync(join(tmpdir(), 'zone-dtb-'));
    const config = join(dir, 'zone0.json');
    writeFileSync(config, JSON.stringify(bringUpZone(build, { kernel: { path: kernelPath, bytes: readFileSync(kernelPath) } })));
    const out = join(dir, 'zone0.dtb');
    await zoneCli(['zone', 'dtb', config, '--board', 'imx8mp-evk', '--dtb', IMX(), '-o', out]);
    const zone = [...walk(parseDtcText(dtcDecompile(out)))];
    const uart2 = zone.find((n) => n.path.endsWith('/serial@30890000'));
    expect(uart2?.path).toBe('/soc@0/bus@30800000/serial@30890000');
    expect(cpuWindows(uart2!)).toEqual([{ base: 0x3089_0000, size: 0x1_0000 }]);

    const rk = debian('rockchip/rk3568-evb1-v10.dtb');
    await expect(zoneCli(['zone', 'dtb', config, '--board', 'imx8mp-evk', '--dtb', rk, '-o', out])).rejects.toThrow(
      /board imx8mp-evk models fsl,imx8mp, but the DTB's root \(\/\) has compatible "rockchip,rk3568-evb1-v10", "rockchip,rk3568": pick its board \(hvisor board list\) or --force to use it anyway/,
    );
    await zoneCli(['zone', 'dtb', config, '--board', 'imx8mp-evk', '--dtb', rk, '--force', '-o', out]);
    expect(parseDtcText(dtcDecompile(out)).props.get('compatible')).toContain('rockchip,rk3568');
  });
});
