import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DeviceTree, DtbError, parseDtb, validateTree, writeDtb } from '../../dtb/index.js';
import { allDebianDtbs, debianDtbPath, NAMED_DEBIAN_DTBS, qemuDtb, QEMU_DTBS } from './dtb-fixtures.js';

const virt = (name: (typeof QEMU_DTBS)[number]): DeviceTree => parseDtb(qemuDtb(name));
const debian = (relative: string): DeviceTree => parseDtb(readFileSync(debianDtbPath(relative)));
const paths = (nodes: { path: string }[]): string[] => nodes.map((n) => n.path);

describe('tree API on QEMU virt (values as dtc prints them)', () => {
  it('finds nodes by path, base name and compatible, with typed values', () => {
    const t = virt('qemu-virt-aarch64-gicv3');
    expect(t.root.string('compatible')).toBe('linux,dummy-virt');
    expect(t.root.u32('#address-cells')).toBe(2);
    const uart = t.requireNode('/pl011@9000000');
    expect(uart.compatible).toEqual(['arm,pl011', 'arm,primecell']);
    expect(t.node('/memory')?.name).toBe('memory@40000000');
    expect(t.node('/no-such')).toBeUndefined();
    expect(() => t.requireNode('/no-such')).toThrow(DtbError);
    expect(paths(t.compatibleNodes('virtio,mmio'))).toHaveLength(32);
    expect(t.requireNode('/psci').strings('compatible')).toEqual(['arm,psci-1.0', 'arm,psci-0.2', 'arm,psci']);
  });

  it('reads reg with the parent cells and translates through ranges', () => {
    const t = virt('qemu-virt-aarch64-gicv3');
    expect(t.reg(t.requireNode('/memory@40000000'))).toEqual([{ address: 0x40000000, size: 0x40000000 }]);
    expect(t.cpuReg(t.requireNode('/pl011@9000000'))).toEqual([{ address: 0x9000000, size: 0x1000 }]);
    const gic = t.requireNode('/intc@8000000');
    expect(t.cpuReg(gic)).toEqual([{ address: 0x8000000, size: 0x10000 }, { address: 0x80a0000, size: 0xf60000 }]);
    // The ITS sits below the GIC node, which maps its children 1:1 with an empty-offset range.
    const its = gic.children.find((c) => c.name.startsWith('its@'))!;
    expect(t.cpuReg(its)).toEqual([{ address: 0x8080000, size: 0x20000 }]);
    // CPUs are not memory-mapped.
    expect(t.cpuReg(t.requireNode('/cpus/cpu@0'))).toBeUndefined();
  });

  it('parses PCI ranges and interrupt-map, and maps INTx like the swizzle QEMU wrote', () => {
    const t = virt('qemu-virt-aarch64-gicv3');
    const pcie = t.requireNode('/pcie@10000000');
    const r = t.ranges(pcie)!;
    expect(r.map((e) => e.pciSpace)).toEqual(['io', 'mem32', 'mem64']);
    expect(r[0]).toMatchObject({ childAddress: 0n, cpuAddress: 0x3eff0000n, size: 0x10000n });
    expect(r[1]).toMatchObject({ childAddress: 0x10000000n, cpuAddress: 0x10000000n, size: 0x2eff0000n });
    expect(r[2]).toMatchObject({ childAddress: 0x8000000000n, cpuAddress: 0x8000000000n, size: 0x8000000000n });
    // A memory BAR address inside the 32-bit window translates to the same CPU address.
    expect(t.translate(pcie, [0x02000000, 0, 0x10001000])).toBe(0x10001000n);
    expect(t.translate(pcie, [0x01000000, 0, 0x20])).toBe(0x3eff0020n);
    expect(t.translate(pcie, [0x02000000, 0, 0x1000])).toBeUndefined();
    const map = t.interruptMap(pcie);
    expect(map).toHaveLength(16);
    expect(map[0]!.parent.path).toBe('/intc@8000000');
    // Device 1 (devfn 0x08) INTA → swizzled to the second SPI of the four (3 + (1 + 0) % 4 = 4).
    const spec = t.mapInterrupt(pcie, [0x0800, 0, 0], [1])!;
    expect(spec.controller.path).toBe('/intc@8000000');
    expect(spec.cells).toEqual([0, 4, 4]);
  });

  it('resolves interrupts through the inherited interrupt-parent', () => {
    const t = virt('qemu-virt-aarch64-gicv2');
    const uart = t.requireNode('/pl011@9000000');
    expect(t.interruptParent(uart)?.path).toBe('/intc@8000000');
    const irqs = t.interrupts(uart);
    expect(irqs.map((i) => [i.controller.path, i.cells])).toEqual([['/intc@8000000', [0, 1, 4]]]);
    expect(t.interruptCells(t.requireNode('/intc@8000000'))).toBe(3);
    const timer = t.requireNode('/timer');
    expect(t.interrupts(timer)).toHaveLength(4);
  });

  it('reads riscv64 interrupts-extended with per-hart controllers', () => {
    const t = virt('qemu-virt-riscv64');
    const plic = t.compatibleNodes('riscv,plic0')[0] ?? t.compatibleNodes('sifive,plic-1.0.0')[0]!;
    const ext = t.interrupts(plic);
    expect(ext).toHaveLength(8);
    expect(ext[0]!.controller.path).toBe('/cpus/cpu@0/interrupt-controller');
    expect(ext[0]!.cells).toEqual([11]);
    expect(ext[1]!.cells).toEqual([9]);
    const uart = t.requireNode('/soc/serial@10000000');
    expect(t.interrupts(uart).map((i) => [i.controller.path, i.cells])).toEqual([[plic.path, [10]]]);
    expect(t.cpuReg(uart)).toEqual([{ address: 0x10000000, size: 0x100 }]);
    expect(t.chosen().stdout?.node.path).toBe('/soc/serial@10000000');
  });

  it('gives every QEMU virt DTB a consistent tree', () => {
    for (const name of QEMU_DTBS) expect(validateTree(virt(name)), name).toEqual([]);
  });
});

describe('tree API on Debian board DTBs', () => {
  it('resolves aliases and stdout-path with options', () => {
    const t = debian('xilinx/zynqmp-zcu102-rev1.0.dtb');
    expect(t.aliases().get('serial0')).toBe('/axi/serial@ff000000');
    expect(t.node('serial0')?.path).toBe('/axi/serial@ff000000');
    const chosen = t.chosen();
    expect(chosen.bootargs).toBe('earlycon');
    expect(chosen.stdoutPath).toBe('serial0:115200n8');
    expect(chosen.stdout?.node.path).toBe('/axi/serial@ff000000');
    expect(chosen.stdout?.options).toBe('115200n8');
    expect(t.cpuReg(t.requireNode('serial0'))).toEqual([{ address: 0xff000000, size: 0x1000 }]);
  });

  it('translates i.MX8MP AIPS bus children and reads the GIC SPI of uart2', () => {
    const t = debian('freescale/imx8mp-evk.dtb');
    const uart2 = t.requireNode('serial1');
    expect(uart2.path).toBe('/soc@0/bus@30800000/serial@30890000');
    expect(t.cpuReg(uart2)).toEqual([{ address: 0x30890000, size: 0x10000 }]);
    expect(t.interrupts(uart2).map((i) => i.cells)).toEqual([[0, 27, 4]]);
    expect(t.chosen().stdout?.node).toBe(uart2);
    expect(t.interruptParent(uart2)?.isCompatible('arm,gic-v3')).toBe(true);
  });

  it('gives every named board DTB a consistent tree', () => {
    for (const f of NAMED_DEBIAN_DTBS) expect(validateTree(debian(f)), f).toEqual([]);
  });

  it('finds every DTB of the Debian package consistent, and CPU addresses for its memory-mapped nodes', () => {
    const files = allDebianDtbs();
    let mapped = 0;
    for (const file of files) {
      const t = parseDtb(readFileSync(file));
      expect(validateTree(t), file).toEqual([]);
      for (const n of t.nodes()) if (n.has('reg') && n.parent?.parent === undefined && t.cpuReg(n) !== undefined) mapped++;
    }
    expect(mapped).toBeGreaterThan(files.length * 5);
  });

  it('follows interrupts through a nexus bus to the GIC (Arm FVP motherboard)', () => {
    const t = debian('arm/fvp-base-revc.dtb');
    const uart = t.requireNode('/bus@8000000/motherboard-bus@8000000/iofpga-bus@300000000/serial@90000');
    expect(t.interrupts(uart).map((i) => [i.controller.path, i.cells])).toEqual([['/bus@8000000', [5]]]);
    const resolved = t.resolvedInterrupts(uart);
    expect(resolved.map((i) => [i.controller.path, i.cells])).toEqual([['/interrupt-controller@2f000000', [0, 5, 4]]]);
    // Plain controllers resolve to themselves.
    const v = virt('qemu-virt-aarch64-gicv3');
    const pl011 = v.requireNode('/pl011@9000000');
    expect(v.resolvedInterrupts(pl011)).toEqual(v.interrupts(pl011));
  });

  it('reads interrupt-maps that leave out the parent unit address (Layerscape extirq, IPQ8074 PCIe)', () => {
    const t = debian('freescale/fsl-ls2081a-rdb.dtb');
    const extirq = [...t.nodes()].find((n) => n.isCompatible('fsl,ls2080a-extirq'))!;
    const map = t.interruptMap(extirq);
    expect(map).toHaveLength(12);
    expect(map[3]).toMatchObject({ childInterrupt: [3, 0], parentAddress: [], parentInterrupt: [0, 3, 4] });
    expect(map[3]!.parent.isCompatible('arm,gic-v3')).toBe(true);
    const ipq = debian('qcom/ipq8074-hk10-c1.dtb');
    const pci = ipq.requireNode('/soc/pci@10000000');
    expect(ipq.mapInterrupt(pci, [0, 0, 0], [2])?.cells).toEqual([0, 0x8f, 4]);
  });
});

describe('editing', () => {
  it('adds, patches and removes nodes and properties, and keeps phandles unique', () => {
    const t = virt('qemu-virt-aarch64-gicv3');
    const soc = t.root.addChild('soc');
    soc.setProperty('#address-cells', [1]);
    soc.setProperty('#size-cells', [1]);
    soc.setProperty('ranges', [0x0, 0x0, 0x20000000, 0x1000000]);
    soc.setProperty('compatible', ['simple-bus']);
    const dev = soc.addChild('uart@1000');
    dev.setProperty('reg', [0x1000, 0x100]);
    dev.setProperty('interrupts', [0, 42, 4]);
    expect(t.cpuReg(dev)).toEqual([{ address: 0x20001000, size: 0x100 }]);
    expect(t.interrupts(dev)[0]!.controller.path).toBe('/intc@8000000');
    const ph = t.ensurePhandle(dev);
    expect(t.nodeByPhandle(ph)).toBe(dev);
    expect(ph).toBeGreaterThan(Math.max(...[...t.phandles().keys()].filter((k) => k !== ph)));
    expect(() => soc.addChild('uart@1000')).toThrow(DtbError);
    t.requireNode('/chosen').setProperty('bootargs', 'console=ttyAMA0');
    expect(t.chosen().bootargs).toBe('console=ttyAMA0');
    expect(t.root.removeChild('soc')).toBe(true);
    expect(t.node('/soc')).toBeUndefined();
    expect(t.nodeByPhandle(ph)).toBeUndefined();
  });
});

describe('reference errors name the node', () => {
  it('reports dangling and cyclic interrupt parents, and reg not matching the cells', () => {
    const t = virt('qemu-virt-aarch64-gicv3');
    const uart = t.requireNode('/pl011@9000000');
    uart.setProperty('interrupt-parent', [0x7777]);
    expect(() => t.interrupts(uart)).toThrow(/pl011@9000000:interrupt-parent: phandle 0x7777 refers to no node/);
    const a = t.root.addChild('a');
    const b = t.root.addChild('b');
    a.setProperty('interrupt-parent', [t.ensurePhandle(b)]);
    b.setProperty('interrupt-parent', [t.ensurePhandle(a)]);
    uart.setProperty('interrupt-parent', [t.ensurePhandle(a)]);
    expect(() => t.interrupts(uart)).toThrow(/cyclic interrupt-parent/);
    uart.removeProperty('interrupt-parent');
    uart.setProperty('reg', [0, 0x9000000, 0]);
    expect(() => t.reg(uart)).toThrow(/\/pl011@9000000: reg has 3 cells, not a multiple/);
    const problems = validateTree(t).map((e) => e.path);
    expect(problems).toContain('/pl011@9000000');
    // The same checks on demand at parse time: a dangling interrupt-parent in a blob.
    const blob = writeDtb(t);
    expect(() => parseDtb(blob)).not.toThrow();
    expect(() => parseDtb(blob, { checkReferences: true })).toThrow(/\/pl011@9000000: reg has 3 cells/);
    uart.setProperty('reg', [0, 0x9000000, 0, 0x1000]);
    uart.setProperty('interrupt-parent', [0x7777]);
    expect(() => parseDtb(writeDtb(t), { checkReferences: true })).toThrow(/phandle 0x7777 refers to no node/);
    expect(() => parseDtb(qemuDtb('qemu-virt-aarch64-gicv3'), { checkReferences: true })).not.toThrow();
  });
});
