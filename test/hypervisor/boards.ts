import { Machine, type DeviceInstance } from '../../src/machine/machine.js';
import type { AccessSize, MmioDevice } from '../../src/machine/mmio-device.js';
import { RoutedIrq } from '../../src/machine/routed-irq.js';

/** A device model that remembers its registers and every access (to prove who reached it). */
export class RecordingDevice implements MmioDevice {
  readonly regs = new Map<number, number>();
  readonly accesses: string[] = [];
  constructor(readonly name: string) {}
  read(offset: number, size: AccessSize): number {
    this.accesses.push(`r${size}@${offset.toString(16)}`);
    return this.regs.get(offset) ?? 0;
  }
  write(offset: number, size: AccessSize, value: number): void {
    this.accesses.push(`w${size}@${offset.toString(16)}=${value.toString(16)}`);
    this.regs.set(offset, value);
  }
  reset(): void {
    this.regs.clear();
  }
  peek(offset: number): number | undefined {
    return (this.regs.get(offset & ~3) ?? 0) >>> (8 * (offset & 3)) & 0xff;
  }
}

function device(path: string, compatible: string, base: number, size: number, irqs: number[], role: DeviceInstance['role'], model?: MmioDevice): DeviceInstance {
  return {
    path,
    compatible: [compatible],
    windows: [{ base, size }],
    irqs,
    modelName: model?.name,
    model,
    irqLines: irqs.map((n) => new RoutedIrq(`irq ${n}`, n)),
    role,
  };
}

/**
 * A board shaped like QEMU's `virt` aarch64 machine (addresses from its dumped DTB, GICv3, 4 CPUs,
 * 2 GiB at 0x40000000). Built by hand: the DTB-driven board builder belongs to another folder.
 */
export function qemuVirtAarch64(): { machine: Machine; uart: RecordingDevice } {
  const m = new Machine('qemu-virt-aarch64', 'aarch64', [0, 1, 2, 3].map((i) => ({ id: i, hwid: BigInt(i), path: `/cpus/cpu@${i}` })), new Uint8Array());
  m.addRam(0x40000000, 0x80000000);
  const uart = new RecordingDevice('pl011');
  m.addDevice(device('/pl011@9000000', 'arm,pl011', 0x9000000, 0x1000, [33], 'device', uart));
  m.addDevice(device('/intc@8000000', 'arm,gic-v3', 0x8000000, 0x10000, [], 'interrupt-controller'));
  m.addDevice(device('/pl061@9030000', 'arm,pl061', 0x9030000, 0x1000, [39], 'device'));
  for (let i = 0; i < 32; i++) {
    const base = 0xa000000 + i * 0x200;
    m.addDevice(device(`/virtio_mmio@${base.toString(16)}`, 'virtio,mmio', base, 0x200, [48 + i], 'virtio-slot'));
  }
  return { machine: m, uart };
}

/** A board shaped like QEMU's `virt` riscv64 machine: 4 harts, 1 GiB at 0x80000000, PLIC, virtio slots. */
export function qemuVirtRiscv64(): { machine: Machine; slots: RecordingDevice[] } {
  const m = new Machine('qemu-virt-riscv64', 'riscv64', [0, 1, 2, 3].map((i) => ({ id: i, hwid: BigInt(i), path: `/cpus/cpu@${i}` })), new Uint8Array());
  m.addRam(0x80000000, 0x40000000);
  m.addDevice(device('/soc/serial@10000000', 'ns16550a', 0x10000000, 0x100, [10], 'device', new RecordingDevice('ns16550a')));
  m.addDevice(device('/soc/plic@c000000', 'sifive,plic-1.0.0', 0xc000000, 0x600000, [], 'interrupt-controller'));
  const slots: RecordingDevice[] = [];
  for (let i = 0; i < 8; i++) {
    const base = 0x10001000 + i * 0x1000;
    const model = new RecordingDevice(`virtio-mmio-${i + 1}`);
    slots.push(model);
    m.addDevice(device(`/soc/virtio_mmio@${base.toString(16)}`, 'virtio,mmio', base, 0x1000, [1 + i], 'virtio-slot', model));
  }
  return { machine: m, slots };
}
