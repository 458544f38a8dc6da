import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, tool } from '../helpers/fixtures.js';
import { findBoard } from '../../boards/index.js';
import { buildBoard } from '../../src/board/board-builder.js';
import { ConfigError } from '../../src/config/config-error.js';
import { loadZoneConfig } from '../../src/config/zone-config.js';
import { generateZoneDtb } from '../../src/hypervisor/lifecycle/zone-dtb.js';
import { zoneKaslrSeed } from '../../src/hypervisor/lifecycle/kaslr-seed.js';
import { readZoneImages } from '../../src/hypervisor/lifecycle/zone-images.js';

/** dtc's DTS text of a blob. */
function dts(blob: Uint8Array): string {
  const file = join(mkdtempSync(join(tmpdir(), 'zinitrd-')), 'zone.dtb');
  writeFileSync(file, blob);
  const r = spawnSync(tool('dtc'), ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dtc failed: ${r.stderr}`);
  return r.stdout;
}

function writeConfig(changes: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'zinitrd-'));
  const config = { ...JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64/zone0-linux.json'), 'utf8')), ...changes };
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete config[k];
  writeFileSync(join(dir, 'kernel'), new Uint8Array(64));
  writeFileSync(join(dir, 'initrd'), new Uint8Array(0x1234).fill(7));
  writeFileSync(join(dir, 'zone.json'), JSON.stringify({ ...config, kernel_filepath: 'kernel', ...('initrd_filepath' in config && { initrd_filepath: 'initrd' }) }));
  return join(dir, 'zone.json');
}

describe('initrd (our extension of hvisor-tool zone configs)', () => {
  it('is loaded at initrd_load_paddr and named in /chosen beside bootargs', () => {
    const config = loadZoneConfig(writeConfig({ initrd_load_paddr: '0x48100000' }));
    expect(config.initrdLoadPaddr).toBe(0x4810_0000);
    const images = readZoneImages(config);
    const initrd = images.find((i) => i.name.endsWith('initrd'))!;
    expect(initrd.paddr).toBe(0x4810_0000);
    expect(initrd.data.length).toBe(0x1234);
    const { machine } = buildBoard(findBoard('qemu-virt-aarch64'));
    const text = dts(generateZoneDtb(machine, config, { initrdSize: 0x1234 }).blob);
    expect(text).toMatch(/chosen \{[^}]*bootargs = "console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=\/init";/);
    expect(text).toMatch(/linux,initrd-start = <0x00 0x48100000>;/);
    expect(text).toMatch(/linux,initrd-end = <0x00 0x48101234>;/);
  });

  it('without the fields: no initrd image and none in /chosen', () => {
    const config = loadZoneConfig(writeConfig({ initrd_filepath: undefined, initrd_load_paddr: undefined }));
    expect(config.initrdFilepath).toBeUndefined();
    expect(readZoneImages(config).map((i) => i.name.split('/').pop())).toEqual(['kernel']);
    const { machine } = buildBoard(findBoard('qemu-virt-aarch64'));
    expect(dts(generateZoneDtb(machine, config).blob)).not.toContain('linux,initrd');
  });

  it('refuses one field without the other, naming it', () => {
    expect(() => loadZoneConfig(writeConfig({ initrd_load_paddr: undefined }))).toThrow(ConfigError);
    expect(() => loadZoneConfig(writeConfig({ initrd_load_paddr: undefined }))).toThrow(/initrd_filepath.*initrd_filepath and initrd_load_paddr given together/);
  });

  it('refuses an arm64 Image not at a 2 MiB-aligned base + text_offset', () => {
    const file = writeConfig({ initrd_filepath: undefined, initrd_load_paddr: undefined, kernel_load_paddr: '0x40300000' });
    const image = new Uint8Array(64);
    new DataView(image.buffer).setUint32(56, 0x644d5241, true); // "ARM\x64", text_offset 0, image_size 0 (= 0x80000)
    writeFileSync(join(file, '..', 'kernel'), image);
    expect(() => readZoneImages(loadZoneConfig(file))).toThrow(/kernel_load_paddr 0x40300000 is not a 2 MiB-aligned base \+ text_offset 0x80000/);
    new DataView(image.buffer).setBigUint64(16, 0x100000n, true); // image_size set: text_offset 0 applies
    writeFileSync(join(file, '..', 'kernel'), image);
    expect(() => readZoneImages(loadZoneConfig(file))).toThrow(/text_offset 0x0 \(arm64 Image\)/);
    const ok = writeConfig({ initrd_filepath: undefined, initrd_load_paddr: undefined });
    writeFileSync(join(ok, '..', 'kernel'), image);
    expect(readZoneImages(loadZoneConfig(ok))[0]!.paddr).toBe(0x4020_0000);
  });

  it('warns instead of naming an initrd outside the zone\'s RAM', () => {
    const config = loadZoneConfig(writeConfig({ initrd_load_paddr: '0x7ffff000' }));
    const { blob, report } = generateZoneDtb(buildBoard(findBoard('qemu-virt-aarch64')).machine, config, { initrdSize: 0x2000 });
    expect(report.warnings.some((w) => w.includes('initrd [0x7ffff000, 0x80001000)'))).toBe(true);
    expect(dts(blob)).not.toContain('linux,initrd');
  });
});

describe('kaslr-seed (hvisor run --kaslr-seed)', () => {
  it('a generated zone tree carries the seed in /chosen as firmware passes it; without one, none (the board\'s own is never passed on)', () => {
    const config = loadZoneConfig(writeConfig({}));
    const { machine } = buildBoard(findBoard('qemu-virt-aarch64'));
    expect(dts(generateZoneDtb(machine, config, { kaslrSeed: 0x0123_4567_89ab_cdefn }).blob)).toMatch(/chosen \{[^}]*kaslr-seed = <0x1234567 0x89abcdef>;/);
    expect(dts(generateZoneDtb(machine, config).blob)).not.toContain('kaslr-seed');
  });

  it('each zone gets its own seed from the run\'s, the same on every run, never zero', () => {
    const seeds = [0, 1, 2, 3].map((id) => zoneKaslrSeed(42n, id));
    expect(new Set(seeds).size).toBe(4);
    expect(seeds).toEqual([0, 1, 2, 3].map((id) => zoneKaslrSeed(42n, id)));
    expect(zoneKaslrSeed(43n, 0)).not.toBe(seeds[0]);
    for (const s of seeds) expect(s > 0n && s < 1n << 64n).toBe(true);
  });
});
