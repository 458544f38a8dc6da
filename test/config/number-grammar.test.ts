import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { JsonFields } from '../../src/config/json-fields.js';
import { parseBoardPciConfig } from '../../src/config/pci-config.js';
import { parseVirtioConfig } from '../../src/config/virtio-config.js';
import { zoneConfigFromJson } from '../../src/config/zone-config.js';
import { fixture, REPO } from '../helpers/fixtures.js';

/**
 * Every config format reads its numbers as hvisor-tool does. The oracle is hvisor-tool's own
 * tools/json_parse.c (parse_json_u64/u32/u8) and cJSON's valueint, compiled for the host by
 * scripts/fixtures.sh around scripts/hvisor-json-parse.c.
 */

/** Each form as JSON text (so "1.0" and "1e3" stay what a file would say). */
const FORMS = [
  '"010"', '"0x10"', '"16"', '"0X10"', '"0x1F"', '"0"', '"00"', '"0777"', '"08"', '"09"', '"0x"', '"x10"', '""',
  '" 16"', '"\\t0x10"', '"\\n010"', '"16 "', '"+16"', '"-1"', '"-0"', '"-0x10"', '"1e3"', '"0b101"', '"16abc"', '"1_000"',
  '"0x0000000000000000000010"', '"4294967295"', '"4294967296"', '"18446744073709551615"', '"18446744073709551616"',
  '"255"', '"256"', '"0xff"', '"0x100"', '"\u0663"', '"16\\u0000"', '"16\\u0000x"', '"\\u00001"',
  '16', '0', '-0', '1.0', '1.5', '-1', '-0.5', '1e3', '2147483647', '2147483648', '3000000000', '255', '256',
  'true', 'false', 'null', '[16]', '{}',
];

interface Oracle {
  readonly u64: bigint | undefined;
  readonly u32: bigint | undefined;
  readonly u8: bigint | undefined;
  /** cJSON's valueint: what hvisor-tool stores for zone_id, cpus, ivc_id, … */
  readonly valueint: number;
}

function hvisorTool(forms: readonly string[]): Oracle[] {
  const out = execFileSync(fixture('hvisor-json-parse/json-parse'), { input: `[${forms.join(',')}]`, encoding: 'utf8' });
  const lines = out.trim().split('\n');
  expect(lines).toHaveLength(forms.length);
  const v = (s: string) => (s === '-' ? undefined : BigInt(s));
  return lines.map((l) => {
    const [u64, u32, u8, valueint] = l.split(' ');
    return { u64: v(u64!), u32: v(u32!), u8: v(u8!), valueint: Number(valueint) };
  });
}

const INT_MAX = 2147483647;

/**
 * The forms hvisor-tool reads as another value than the one written, which hvisor-ts refuses
 * instead (json-fields.ts says why): a JSON number with a fraction or above INT_MAX (valueint
 * truncates and saturates), a negative string (strtoumax wraps it) and a string with a NUL (C
 * reads up to it: "16\u0000x" is 16 there).
 */
function changedByHvisorTool(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isInteger(value) || value > INT_MAX;
  if (typeof value !== 'string') return false;
  return value.includes('\u0000') || (/^[ \t\n\v\f\r]*-/.test(value) && !/^[ \t\n\v\f\r]*-0+$/.test(value));
}

/** What our reader returns, or 'refused' with the ConfigError's path. */
function ours(read: () => bigint | number): bigint | 'refused' {
  try {
    return BigInt(read());
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return 'refused';
  }
}

/** hvisor-tool's value for a reader, or 'refused' where it refuses or silently changes the value. */
function expected(value: unknown, oracle: bigint | undefined): bigint | 'refused' {
  return oracle === undefined || changedByHvisorTool(value) ? 'refused' : oracle;
}

const oracle = hvisorTool(FORMS);
const values = FORMS.map((f) => JSON.parse(f) as unknown);

describe('config numbers read as hvisor-tool reads them (its json_parse.c is the oracle)', () => {
  it('the oracle reads "010" as 8 and "0x10", "16" as 16 (strtoumax base 0)', () => {
    expect(oracle[FORMS.indexOf('"010"')]!.u64).toBe(8n);
    expect(oracle[FORMS.indexOf('"0x10"')]!.u64).toBe(16n);
    expect(oracle[FORMS.indexOf('"16"')]!.u64).toBe(16n);
  });

  it('what hvisor-ts refuses on purpose, hvisor-tool reads as another value than the one written', () => {
    const u64 = (form: string) => oracle[FORMS.indexOf(form)]!.u64;
    expect(u64('1.5')).toBe(1n);
    expect(u64('3000000000')).toBe(2147483647n);
    expect(u64('"-1"')).toBe((1n << 64n) - 1n);
    expect(u64('"16\\u0000x"')).toBe(16n);
    FORMS.forEach((form, i) => {
      const o = oracle[i]!.u64;
      if (changedByHvisorTool(values[i]) && o !== undefined) expect({ form, read: Number(o) }).not.toEqual({ form, read: Number(values[i]) });
    });
  });

  it('JsonFields: u64, u32, u8 and valueint fields, form by form', () => {
    const rows = FORMS.map((form, i) => {
      const f = new JsonFields('t.json', 'x', values[i]);
      const o = oracle[i]!;
      return {
        form,
        u64: [ours(() => f.u(64)), expected(values[i], o.u64)],
        u32: [ours(() => f.u(32)), expected(values[i], o.u32)],
        u8: [ours(() => f.u(8)), expected(values[i], o.u8)],
        // A valueint field means its value only when it is a JSON number: hvisor-tool reads anything else as 0 or 1.
        valueint: [ours(() => f.int()), typeof values[i] === 'number' && !changedByHvisorTool(values[i]) && o.valueint >= 0 ? BigInt(o.valueint) : 'refused'],
      };
    });
    for (const row of rows) {
      for (const key of ['u64', 'u32', 'u8', 'valueint'] as const) expect({ form: row.form, [key]: row[key][0] }).toEqual({ form: row.form, [key]: row[key][1] });
    }
  });

  it('a zone config: entry_point (u64), pci_config domain (u8), zone_id (valueint)', () => {
    const base = JSON.parse(readFileSync(join(REPO, 'test/hypervisor/configs/qemu-aarch64-zone1_linux_with_pci.json'), 'utf8'));
    const parse = (mutate: (j: any) => void) => {
      const j = structuredClone(base);
      mutate(j);
      return zoneConfigFromJson(j, 'zone1.json');
    };
    FORMS.forEach((form, i) => {
      const v = values[i];
      const o = oracle[i]!;
      expect({ form, entry: ours(() => parse((j) => (j.entry_point = v)).entryPoint) }).toEqual({ form, entry: expected(v, o.u64) });
      expect({ form, domain: ours(() => parse((j) => (j.pci_config[0].domain = v)).pciConfig[0]!.domain) }).toEqual({ form, domain: expected(v, o.u8) });
      const zoneId = typeof v === 'number' && !changedByHvisorTool(v) && o.valueint >= 0 ? BigInt(o.valueint) : 'refused';
      expect({ form, zoneId: ours(() => parse((j) => (j.zone_id = v)).zoneId) }).toEqual({ form, zoneId });
    });
  });

  it('virtio_cfg.json: a device irq (hvisor-tool: parse_json_u32) and a MAC byte (parse_json_u8)', () => {
    const config = (irq: unknown, macByte: unknown) => ({
      zones: [{ id: 1, devices: [{ type: 'net', addr: '0xa003600', len: '0x200', irq, mac: ['0x00', '0x16', '0x3e', '0x10', '0x10', macByte] }] }],
    });
    FORMS.forEach((form, i) => {
      const v = values[i];
      const o = oracle[i]!;
      expect({ form, irq: ours(() => parseVirtioConfig(config(v, 1), 'v.json')[0]!.devices[0]!.irq) }).toEqual({ form, irq: expected(v, o.u32) });
      const macByte = () => {
        const d = parseVirtioConfig(config(1, v), 'v.json')[0]!.devices[0]!;
        return d.type === 'net' ? d.mac[5]! : -1;
      };
      expect({ form, mac: ours(macByte) }).toEqual({ form, mac: expected(v, o.u8) });
    });
  });

  it('the --pci file: a numeric bdf (16 bits, the same grammar; 0 is the host bridge)', () => {
    FORMS.forEach((form, i) => {
      const v = values[i];
      const u32 = expected(v, oracle[i]!.u32);
      const want = u32 === 'refused' || u32 === 0n || u32 > 0xffffn ? 'refused' : u32;
      expect({ form, bdf: ours(() => parseBoardPciConfig({ functions: [{ bdf: v, type: 'nvme', img: 'x' }] }, 'pci.json').functions[0]!.bdf) }).toEqual({ form, bdf: want });
    });
  });

  it('a refusal names the file and the field', () => {
    expect(() => parseVirtioConfig({ zones: [{ id: 1, devices: [{ type: 'console', addr: '0xa003600', irq: '-1' }] }] }, 'v.json')).toThrow(
      new ConfigError('v.json', 'zones[0].devices[0].irq', 'expected an unsigned integer (a number or a "0x…" string), got "-1"'),
    );
    expect(() => new JsonFields('z.json', 'memory_regions[0].size', 3000000000).u(64)).toThrow(
      new ConfigError('z.json', 'memory_regions[0].size', '3000000000 is above 2147483647, which hvisor-tool\'s cJSON reads as 2147483647: write it as a string ("0xb2d05e00")'),
    );
    expect(() => new JsonFields('z.json', 'zone_id', '1').int()).toThrow(/z\.json: zone_id: expected an unsigned integer written as a JSON number/);
  });
});
