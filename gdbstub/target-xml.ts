import type { GdbArchDescription, GdbFeature, GdbRegister } from './arch-description.js';

/**
 * The target-description files gdb reads through qXfer:features:read: target.xml (architecture and
 * one xi:include per feature) and one file per feature. Every register carries its regnum so the
 * p/P numbering is exactly the arch's, whatever the XML order.
 */
export class TargetDescriptionFiles {
  private readonly files = new Map<string, string>();

  constructor(description: GdbArchDescription) {
    const includes = description.features.map((f) => `<xi:include href="${escapeXml(f.file)}"/>`).join('');
    this.files.set(
      'target.xml',
      '<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd">' +
        `<target version="1.0"><architecture>${escapeXml(description.architecture)}</architecture>${includes}</target>`,
    );
    for (const feature of description.features) this.files.set(feature.file, featureXml(feature));
  }

  /** The file named by a qXfer annex, or undefined. */
  get(annex: string): string | undefined {
    return this.files.get(annex);
  }

  names(): string[] {
    return [...this.files.keys()];
  }
}

function featureXml(feature: GdbFeature): string {
  const regs = feature.registers.map(registerXml).join('');
  return (
    '<?xml version="1.0"?><!DOCTYPE feature SYSTEM "gdb-target.dtd">' +
    `<feature name="${escapeXml(feature.name)}">${feature.typesXml ?? ''}${regs}</feature>`
  );
}

function registerXml(r: GdbRegister): string {
  let xml = `<reg name="${escapeXml(r.name)}" bitsize="${r.bits}" regnum="${r.regno}"`;
  if (r.type) xml += ` type="${escapeXml(r.type)}"`;
  if (r.group) xml += ` group="${escapeXml(r.group)}"`;
  return xml + '/>';
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Register lookup by remote number, and the byte layout of the `g` packet. */
export class RegisterMap {
  private readonly byRegno = new Map<number, GdbRegister>();
  /** Byte widths of registers 0..gPacketRegisters-1, in order. */
  readonly gLayout: readonly GdbRegister[];

  constructor(description: GdbArchDescription) {
    for (const feature of description.features) {
      for (const r of feature.registers) {
        if (this.byRegno.has(r.regno)) throw new Error(`arch description: register number ${r.regno} used twice (${r.name})`);
        if (r.bits % 8 !== 0 || r.bits <= 0) throw new Error(`arch description: register ${r.name} has ${r.bits} bits, not whole bytes`);
        this.byRegno.set(r.regno, r);
      }
    }
    const layout: GdbRegister[] = [];
    for (let n = 0; n < description.gPacketRegisters; n++) {
      const r = this.byRegno.get(n);
      if (!r) throw new Error(`arch description: g packet covers register ${n}, which no feature describes`);
      layout.push(r);
    }
    this.gLayout = layout;
    for (const n of description.expedite) {
      if (!this.byRegno.has(n)) throw new Error(`arch description: expedited register ${n} is not described`);
    }
  }

  get(regno: number): GdbRegister | undefined {
    return this.byRegno.get(regno);
  }
}
