import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { dtbCommand, renderDtb } from '../../src/cli/commands/dtb.js';
import { tool } from '../helpers/fixtures.js';
import { debianDtbPath, dtcDts, qemuDtbPath } from './dtb-fixtures.js';

/** Runs `hvisor dtb ...` through yargs as main.ts does, capturing stdout. */
async function run(args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
    return true;
  });
  try {
    await yargs(args).command(dtbCommand).strict().fail((msg, err) => {
      throw err ?? new Error(msg);
    }).parseAsync();
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('hvisor dtb', () => {
  it('--dts prints exactly what dtc prints', async () => {
    const file = debianDtbPath('rockchip/rk3568-rock-3a.dtb');
    expect(await run(['dtb', file, '--dts'])).toBe(dtcDts(file));
  });

  it('--json gives the tree with typed values', async () => {
    const json = JSON.parse(await run(['dtb', qemuDtbPath('qemu-virt-aarch64-gicv3'), '--json']));
    expect(json.root.properties.compatible).toBe('linux,dummy-virt');
    const uart = json.root.children.find((c: { name: string }) => c.name === 'pl011@9000000');
    expect(uart.path).toBe('/pl011@9000000');
    expect(uart.properties.compatible).toEqual(['arm,pl011', 'arm,primecell']);
    expect(uart.properties.reg).toEqual([0, 0x9000000, 0, 0x1000]);
    const fwcfg = json.root.children.find((c: { name: string }) => c.name.startsWith('fw-cfg'));
    expect(fwcfg.properties['dma-coherent']).toBe(true);
  });

  it('summarizes memory, CPUs, interrupt controllers and the console by default', async () => {
    const text = await run(['dtb', debianDtbPath('xilinx/zynqmp-zcu102-rev1.0.dtb')]);
    expect(text).toContain('model: ZynqMP ZCU102 Rev1.0');
    expect(text).toMatch(/memory: 0x0\.\.0x7fffffff \(2 GiB\)/);
    expect(text).toContain('cpus: 4 × arm,cortex-a53 (enable-method psci)');
    expect(text).toMatch(/interrupt controller: \/axi\/interrupt-controller@f9010000 \(arm,gic-400\) at 0xf9010000\+0x10000/);
    expect(text).toContain('stdout: serial0:115200n8 → /axi/serial@ff000000');
    expect(text).toContain('bootargs: earlycon');
  });

  it('compiles a zone .dts with --out to the blob dtc makes', async () => {
    const source = join(dirname(fileURLToPath(import.meta.url)), 'dts', 'zone1-linux-aarch64.dts');
    const out = join(mkdtempSync(join(tmpdir(), 'hvisor-dtb-')), 'zone1.dtb');
    const text = await run(['dtb', source, '--out', out]);
    expect(text).toContain('cpus: 2 × arm,cortex-a53 (enable-method psci)');
    expect(text).toContain('reserved: 0x50000000 size 0x10000');
    const dtc = execFileSync(tool('dtc'), ['-q', '-I', 'dts', '-O', 'dtb', source]);
    expect(Buffer.from(readFileSync(out)).equals(dtc)).toBe(true);
    expect(await run(['dtb', out, '--dts'])).toBe(dtcDts(out));
    await run(['dtb', source, '--out', out, '--pad', '4096']);
    const padded = execFileSync(tool('dtc'), ['-q', '-I', 'dts', '-O', 'dtb', '-p', '4096', source]);
    expect(Buffer.from(readFileSync(out)).equals(padded)).toBe(true);
  });

  it('runs cpp for sources with #include, searching --include directories', async () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), 'dts');
    const json = JSON.parse(await run(['dtb', join(dir, 'cpp-board.dts'), '-i', join(dir, 'include'), '--json']));
    const uart = json.root.children.find((c: { name: string }) => c.name === 'serial@9000000');
    expect(uart.properties.status).toBe('okay');
  });

  it('fails with a DtbError naming the file and the problem', async () => {
    await expect(run(['dtb', '/nonexistent.dtb'])).rejects.toThrow('/nonexistent.dtb: cannot read: ENOENT');
    const text = new Uint8Array(readFileSync(qemuDtbPath('qemu-virt-riscv64')));
    text[0] = 0;
    expect(() => renderDtb(text, 'summary')).toThrow(/offset 0x0: bad magic/);
    await expect(run(['dtb', join(dirname(fileURLToPath(import.meta.url)), 'dts', 'features-included.dtsi')])).rejects.toThrow(/features-included.dtsi:2:1: expected \/dts-v1\//);
  });
});
