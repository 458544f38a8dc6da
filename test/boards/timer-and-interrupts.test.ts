/**
 * Boards take the timer rate from the DTB's generic-timer node (firmware's CNTFRQ_EL0) and know how
 * many interrupt numbers their controller implements; a zone naming one the controller lacks is
 * refused before anything runs. Expected rates come from dtc's reading of the same DTBs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBoard } from '../../boards/index.js';
import { buildBoard } from '../../src/board/board-builder.js';
import { zoneConfigFromJson } from '../../src/config/zone-config.js';
import { checkPartition, PartitionError } from '../../src/hypervisor/lifecycle/partition-check.js';
import { showBoard } from '../../src/cli/commands/board.js';
import { fixture, fixtureMatching } from '../helpers/fixtures.js';
import { dtcDecompile } from './dt-tools.js';
import { cellsOf, compatibleOf, parseDtcText, walk } from './dtc-text.js';

const debian = (relative: string) => join(fixtureMatching('debian/arm64-6.1/usr/lib', /^linux-image-/), relative);

function dtcTimerRate(file: string): number | undefined {
  const timer = [...walk(parseDtcText(dtcDecompile(file)))].find((n) => compatibleOf(n).includes('arm,armv8-timer'));
  return timer === undefined ? undefined : cellsOf(timer, 'clock-frequency')?.[0];
}

const zoneWith = (interrupts: number[]) =>
  zoneConfigFromJson(
    {
      name: 'irqs', zone_id: 0, cpus: [0],
      memory_regions: [{ type: 'ram', physical_start: '0x40000000', virtual_start: '0x40000000', size: '0x1000000' }],
      interrupts, ivc_configs: [], kernel_filepath: '', dtb_filepath: '',
      kernel_load_paddr: '0x40000000', dtb_load_paddr: '0x40000000', entry_point: '0x40000000',
      arch_config: { gic_version: 'v3', gicd_base: '0x8000000', gicd_size: '0x10000', gicr_base: '0x80a0000', gicr_size: '0xf60000' },
    },
    'irqs.json',
  );

describe('timer rate and interrupt count from the board', () => {
  it('i.MX8MP EVK: the timer runs at the DTB clock-frequency (8 MHz), the GIC has 192 INTIDs', () => {
    const file = debian('freescale/imx8mp-evk.dtb');
    const build = buildBoard(findBoard('imx8mp-evk'), { dtb: readFileSync(file) });
    expect(dtcTimerRate(file)).toBe(8_000_000);
    expect(build.timerFrequency).toBe(8_000_000);
    expect(build.machine.interruptCount).toBe(192);
    // Every interrupt the DTB wires exists on the controller.
    expect(Math.max(...build.machine.devices.flatMap((d) => d.irqs))).toBeLessThan(192);
  });

  it('ZCU102 (no clock-frequency in its timer node) and QEMU virt: 62.5 MHz as QEMU sets CNTFRQ', () => {
    const file = debian('xilinx/zynqmp-zcu102-rev1.0.dtb');
    expect(dtcTimerRate(file)).toBeUndefined();
    const zcu = buildBoard(findBoard('zcu102'), { dtb: readFileSync(file) });
    expect([zcu.timerFrequency, zcu.machine.interruptCount]).toEqual([62_500_000, 192]);
    const virt = buildBoard(findBoard('qemu-virt-aarch64'));
    expect([virt.timerFrequency, virt.machine.interruptCount]).toEqual([62_500_000, 288]);
    const rv = buildBoard(findBoard('qemu-virt-riscv64'), { dtb: readFileSync(fixture('qemu-dtb/qemu-virt-riscv64.dtb')) });
    const plic = [...walk(parseDtcText(dtcDecompile(fixture('qemu-dtb/qemu-virt-riscv64.dtb'))))].find((n) => compatibleOf(n).includes('riscv,plic0'))!;
    expect([rv.timerFrequency, rv.machine.interruptCount]).toEqual([10_000_000, cellsOf(plic, 'riscv,ndev')![0]! + 1]);
  });

  it('a DTB no board models: the GIC covers its highest interrupt, in whole groups of 32', () => {
    const file = debian('ti/k3-j721s2-common-proc-board.dtb');
    const report = showBoard({ dtb: file });
    expect(report.board).toBe('unmodelled');
    const highest = Math.max(...report.devices.flatMap((d) => d.irqs.flatMap((q) => (q.number !== undefined ? [q.number] : []))));
    expect(highest).toBeGreaterThan(288);
    expect(report.interruptCount).toBe(Math.ceil((highest + 1) / 32) * 32);
  });

  it('RK3588 (trixie 6.12 DTB) and RK3568: /memory from the board, 24 MHz timer, the UART2 INTID inside the GIC', () => {
    for (const [file, board, count] of [
      [fixture('dtbs-arm64-6.12/rockchip/rk3588-rock-5b.dtb'), 'rk3588', 512],
      [debian('rockchip/rk3568-evb1-v10.dtb'), 'rk3568', undefined],
    ] as const) {
      const nodes = [...walk(parseDtcText(dtcDecompile(file)))];
      expect(nodes.some((n) => n.props.get('device_type') === '"memory"')).toBe(false);
      const uart2 = nodes.find((n) => n.path === '/serial@fe660000' || n.path === '/serial@feb50000')!;
      const uartIrq = cellsOf(uart2, 'interrupts')![1]! + 32;
      const report = showBoard({ dtb: file });
      expect(report.board).toBe(board);
      expect(report.memoryFromBoardFallback).toBe(true);
      expect(report.timerFrequency).toBe(24_000_000);
      if (count !== undefined) expect(report.interruptCount).toBe(count);
      expect(uartIrq).toBeLessThan(report.interruptCount!);
      const device = report.devices.find((d) => d.path === uart2.path)!;
      expect(device.model).toBe('dw-apb-uart');
      expect(device.irqs.map((q) => q.number)).toEqual([uartIrq]);
    }
  });

  it('refuses a zone interrupt the controller lacks, naming the zone and the range', () => {
    const { machine } = buildBoard(findBoard('qemu-virt-aarch64'));
    expect(() => checkPartition(machine, [zoneWith([33, 287])])).not.toThrow();
    let error: unknown;
    try {
      checkPartition(machine, [zoneWith([33, 365])]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PartitionError);
    expect((error as Error).message).toBe("zone 0 (irqs, irqs.json) interrupts: 365 is not an interrupt of board qemu-virt-aarch64's controller (it has 0..287)");
  });
});
