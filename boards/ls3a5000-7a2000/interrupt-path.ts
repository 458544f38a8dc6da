/**
 * The interrupt path Linux drives on the 3A5000 + 7A bridge, added to QEMU 7.2's virt tree (which
 * describes none of it: its PCH-PIC is "loongarch,ls7a" with no parent, its UART and RTC have no
 * interrupts). Nodes as QEMU's later LoongArch virt trees and the kernel's bindings have them: the
 * CPU interrupt controller (loongson,cpu-interrupt-controller), the EIOINTC cascaded on its HWI1 (line
 * 3; reached over IOCSR, so no reg), the PCH-PIC (loongson,pch-pic-1.0, vectors from 0) under the
 * EIOINTC, and the UART (PCH-PIC input 2) and RTC (input 6) wired to it, level high.
 */
import { cells, flag, node, strings, type DtsNode, type DtsProperty } from '../dts-source.js';

const CPUIC_PHANDLE = 0x7ff0;
const EIOINTC_PHANDLE = 0x7ff1;
/** HWI1 of the CPU interrupt controller: where Linux's EIOINTC driver routes every vector (IP[1]). */
export const EIOINTC_CASCADE = 3;
export const UART_PCH_INPUT = 2;
export const RTC_PCH_INPUT = 6;
const LEVEL_HIGH = 4;

const replace = (props: readonly DtsProperty[], drop: readonly string[], add: readonly DtsProperty[]): DtsProperty[] => [
  ...props.filter((p) => !drop.includes(p.name)),
  ...add,
];

export function withInterruptPath(root: DtsNode): DtsNode {
  const pic = root.children.find((c) => c.name.startsWith('intc@'));
  if (pic === undefined) return root;
  const children = root.children.map((c): DtsNode => {
    if (c === pic) {
      return node(c.name, replace(c.properties, ['compatible', '#interrupt-cells', 'reg'], [
        strings('compatible', 'loongson,pch-pic-1.0'),
        cells('reg', 0, 0x1000_0000, 0, 0x400),
        cells('#interrupt-cells', 2),
        cells('interrupt-parent', EIOINTC_PHANDLE),
        cells('loongson,pic-base-vec', 0),
      ]), c.children);
    }
    if (c.name.startsWith('serial@')) return node(c.name, [...c.properties, cells('interrupts', UART_PCH_INPUT, LEVEL_HIGH)], c.children);
    if (c.name.startsWith('rtc@')) return node(c.name, [...c.properties, cells('interrupts', RTC_PCH_INPUT, LEVEL_HIGH)], c.children);
    return c;
  });
  const cpuic = node('cpuic', [
    cells('phandle', CPUIC_PHANDLE),
    // Its own parent: the root's interrupt-parent (the PIC) would make the chain a cycle.
    cells('interrupt-parent', CPUIC_PHANDLE),
    strings('compatible', 'loongson,cpu-interrupt-controller'),
    flag('interrupt-controller'),
    cells('#interrupt-cells', 1),
  ]);
  const eiointc = node('eiointc', [
    cells('phandle', EIOINTC_PHANDLE),
    strings('compatible', 'loongson,ls2k2000-eiointc'),
    flag('interrupt-controller'),
    cells('#interrupt-cells', 1),
    cells('interrupt-parent', CPUIC_PHANDLE),
    cells('interrupts', EIOINTC_CASCADE),
  ]);
  return node(root.name, root.properties, [cpuic, eiointc, ...children]);
}
