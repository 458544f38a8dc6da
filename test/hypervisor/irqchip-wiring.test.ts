import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadZoneConfig } from '../../src/config/zone-config.js';
import { Zone } from '../../src/hypervisor/zone/zone.js';
import { riscvFactories, aarch64Factories } from '../../src/hypervisor/zone/arch-factories.js';
import { Icc } from '../../src/devices/irqchip/gic/gicv3.js';
import { Aarch64Irq } from '../../src/arch/aarch64/system-register-hook.js';
import { FakeCpu, Op, encode } from './fake-cpu.js';
import { qemuVirtAarch64, qemuVirtRiscv64 } from './boards.js';
import { config } from './zone-fixture.js';

const dir = join(import.meta.dirname, 'configs');

describe('zone interrupt controllers wired to passed-through devices', () => {
  it('riscv64: a board device’s source reaches only its owner zone’s PLIC and that zone’s S-mode vCPU', () => {
    const { machine } = qemuVirtRiscv64();
    const { createIrqchip } = riscvFactories();
    const make = (file: string) => {
      const cpus: FakeCpu[] = [];
      const cfg = loadZoneConfig(join(dir, file));
      const images = [{ name: 'k', paddr: cfg.kernelLoadPaddr, data: encode([[Op.WaitIrq, 0]]) }];
      const zone = new Zone({ machine, config: cfg, createCpu: FakeCpu.factory(cpus), createIrqchip, timerFrequency: 1000, images });
      return { zone, cpus };
    };
    const z1 = make('qemu-riscv64-linux2.json'); // owns source 10 (the UART)
    const z0 = make('qemu-riscv64-zone0.json');
    z1.zone.start();
    expect(z1.zone.runSlice(10).idle).toBe(true); // vCPU 0 waits for an interrupt
    let woke = 0;
    z1.zone.onRunnable = () => woke++;
    const m = z1.zone.memory;
    m.write(0xc000000 + 4 * 10, 4, 1n); // priority[10] = 1
    m.write(0xc002000 + 0x80 * 1, 4, 1n << 10n); // enable source 10 for context 1 (vCPU 0, S-mode)
    m.write(0xc200000 + 0x1000 * 1, 4, 0n); // threshold 0
    const uart = machine.devices.find((d) => d.path === '/soc/serial@10000000')!;
    uart.irqLines[0]!.set(true);
    expect(z1.cpus[0]!.interrupts.get(9)).toBe(true);
    expect(woke).toBe(1);
    expect(m.read(0xc201004, 4)).toBe(10n); // claim
    // zone0's PLIC view has no source 10: never pending there.
    expect(z0.zone.memory.read(0xc001000, 4)).toBe(0n);
    expect(z0.cpus[0]!.interrupts.get(9)).toBeUndefined();
  });

  it('aarch64 GICv3: SPI 76 of zone1 reaches zone1’s vCPU IRQ; zone0’s distributor cannot see it', () => {
    const { machine } = qemuVirtAarch64();
    // A board device on SPI 44 (INTID 76), as QEMU virt's virtio-mmio slot 12.
    const slot = machine.devices.find((d) => d.irqs.includes(76))!;
    const { createIrqchip, gicOf } = aarch64Factories('gicv3');
    const cpus1: FakeCpu[] = [];
    const z1 = new Zone({ machine, config: config(1), createCpu: FakeCpu.factory(cpus1), createIrqchip, timerFrequency: 1000, images: [{ name: 'k', paddr: 0x50400000, data: encode([[Op.WaitIrq, 0]]) }] });
    const z0 = new Zone({ machine, config: config(0), createCpu: FakeCpu.factory(), createIrqchip, timerFrequency: 1000 });
    z1.start();
    const m = z1.memory;
    m.write(0x8000000, 4, 0x12n); // GICD_CTLR: ARE | EnableGrp1
    m.write(0x8000080 + 8, 4, 0xffffffffn); // IGROUPR2: group 1
    m.write(0x8000100 + 8, 4, 1n << 12n); // ISENABLER2 bit 12 = INTID 76
    m.write(0x8006000 + 8 * 76, 4, 2n); // IROUTER76 = Aff0 2: board CPU 2 = zone1's vCPU 0
    m.write(0x80a0000 + 0x14, 4, 0n); // GICR_WAKER of vCPU 0: awake
    const gic = gicOf(z1)!;
    gic.write(0, Icc.PMR, 0xffn);
    gic.write(0, Icc.IGRPEN1, 1n);
    expect(z1.runSlice(10).idle).toBe(true);
    slot.irqLines.find((l) => l.number === 76)!.set(true);
    expect(cpus1[0]!.interrupts.get(Aarch64Irq.Irq)).toBe(true);
    expect(z1.vcpuWaiting(0)).toBe(false);
    expect(gic.read(0, Icc.IAR1)).toBe(76n);
    expect(m.read(0x8000200 + 8, 4)! & (1n << 12n)).toBe(1n << 12n); // ISPENDR2: pending in zone1
    expect(z0.memory.read(0x8000200 + 8, 4)).toBe(0n); // zone0 does not own INTID 76
    expect(z0.memory.read(0x8000100 + 8, 4)).toBe(0n);
  });

  it('a GICv2 zone config on a GICv3 board is a config error naming the field', () => {
    const { machine } = qemuVirtAarch64();
    const zcu = loadZoneConfig(join(dir, 'zcu102-zone1_linux.json'));
    const { createIrqchip } = aarch64Factories('gicv3');
    expect(() => new Zone({ machine, config: zcu, createCpu: FakeCpu.factory(), createIrqchip, timerFrequency: 1000 }))
      .toThrow(`${join(dir, 'zcu102-zone1_linux.json')}: arch_config.gic_version: "v3": board qemu-virt-aarch64 has a GICv3 (the config describes gicv2)`);
  });
});
