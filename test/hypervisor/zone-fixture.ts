import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Machine } from '../../src/machine/machine.js';
import { zoneConfigFromJson, type ZoneConfig } from '../../src/config/zone-config.js';
import { Zone, type ZoneOptions } from '../../src/hypervisor/zone/zone.js';
import { FakeCpu, encode } from './fake-cpu.js';

const dir = join(import.meta.dirname, 'configs');

/** zone0 (CPUs 0,1, RAM 0x40000000) or zone1 (hvisor-tool's qemu-aarch64 zone1: CPUs 2,3, RAM 0x50000000). */
export function config(which: 0 | 1, mutate?: (j: any) => void): ZoneConfig {
  const file = which === 0 ? 'qemu-aarch64-zone0.json' : 'qemu-aarch64-zone1_linux_with_pci.json';
  const j = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  mutate?.(j);
  return zoneConfigFromJson(j, file);
}

export class FakeHost {
  ms = 0;
  readonly clock = () => this.ms;
}

export interface TestZone {
  zone: Zone;
  cpus: FakeCpu[];
  log: string[];
  console: number[];
}

/** A zone of fake cores whose boot image is `program` at the config's kernel_load_paddr. */
export function makeZone(
  machine: Machine,
  cfg: ZoneConfig,
  program: Parameters<typeof encode>[0],
  extra: Partial<ZoneOptions> = {},
): TestZone {
  const cpus: FakeCpu[] = [];
  const log: string[] = [];
  const consoleBytes: number[] = [];
  const zone = new Zone({
    machine,
    config: cfg,
    createCpu: FakeCpu.factory(cpus),
    timerFrequency: 1000,
    images: [{ name: 'kernel', paddr: cfg.kernelLoadPaddr, data: encode(program) }],
    dtbAddress: cfg.dtbLoadPaddr,
    log: (l) => log.push(l),
    console: (b) => consoleBytes.push(...b),
    ...extra,
  });
  return { zone, cpus, log, console: consoleBytes };
}
