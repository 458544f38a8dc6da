/**
 * Interrupt numbering as hvisor's zone configs use it. The rules are the GIC architecture's INTID
 * ranges (PPI 16..31, SPI 32..1019) and the PLIC's source numbers; the tree is compiled by dtc.
 */
import { describe, expect, it } from 'vitest';
import { parseDtb } from '../../dtb/reader.js';
import { nodeZoneIrqs } from '../../src/machine/zone-irq-number.js';
import { dtcCompile } from './dt-tools.js';

const dts = `/dts-v1/;
/ {
  #address-cells = <1>; #size-cells = <1>;
  gic: gic@1000 { compatible = "arm,gic-400"; interrupt-controller; #interrupt-cells = <3>; reg = <0x1000 0x1000>; };
  plic: plic@2000 { compatible = "thead,c900-plic"; interrupt-controller; #interrupt-cells = <2>; reg = <0x2000 0x1000>; };
  pic: pic@3000 { compatible = "loongson,pch-pic-1.0"; interrupt-controller; #interrupt-cells = <2>; reg = <0x3000 0x400>; };
  gpio: gpio@4000 { compatible = "vendor,gpio"; interrupt-controller; #interrupt-cells = <2>; reg = <0x4000 0x100>;
    interrupt-parent = <&gic>; interrupts = <0 20 4>; };
  hart: cpu-intc { compatible = "riscv,cpu-intc"; interrupt-controller; #interrupt-cells = <1>; };
  a@5000 { reg = <0x5000 0x100>; interrupt-parent = <&gic>; interrupts = <0 1 4>, <1 14 0xf08>, <0 987 1>; };
  b@6000 { reg = <0x6000 0x100>; interrupts-extended = <&plic 10 4>, <&hart 9>, <&pic 52 4>, <&gpio 3 8>; };
};`;

describe('zone interrupt numbers', () => {
  const tree = parseDtb(dtcCompile(dts));
  it('GIC: SPI n is n + 32, PPI n is n + 16, with the trigger from the flags', () => {
    expect(nodeZoneIrqs(tree, tree.requireNode('/a@5000'))).toEqual([
      { number: 33, source: 'SPI 1', trigger: 'level-high' },
      { number: 30, source: 'PPI 14', trigger: 'level-low' },
      { number: 1019, source: 'SPI 987', trigger: 'edge-rising' },
    ]);
  });
  it('PLIC and PCH-PIC: the source number; hart-local dropped; behind a cascade: no number', () => {
    expect(nodeZoneIrqs(tree, tree.requireNode('/b@6000'))).toEqual([
      { number: 10, source: 'PLIC 10', trigger: 'level-high' },
      { number: 52, source: 'pic 52', trigger: 'level-high' },
      { number: undefined, source: '/gpio@4000 3', trigger: 'level-low' },
    ]);
  });
});
