/**
 * What recording costs and what going back costs: Debian's arm64 6.1 in zone0 (2 vCPUs) to the
 * initramfs's BOOT-OK, plain and under `--record` (CPU seconds of this process: the host is shared),
 * then on the booted zone 1000 single steps forward and 1000 back through the zone's GdbTarget (what
 * the stub calls for `vCont;s` and `bs`; gdb's round trips not counted).
 *
 * `node dist/bench/record-replay.js` or `npm run bench -- record-replay`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { aarch64LinuxSpec, bootOurs } from './linux-boot.js';
import { REPO_ROOT } from './repo-root.js';
import type { Instance } from '../src/cli/launch.js';
import type { StopEvent } from '../gdbstub/target.js';

const STEPS = 1000;
const spec = aarch64LinuxSpec();
const config = JSON.parse(readFileSync(join(REPO_ROOT, spec.zoneConfig), 'utf8')) as Record<string, unknown>;

/** Steps the halted zone STEPS times forward, then STEPS times back; ms per step each way. */
async function stepBackAndForth(instance: Instance): Promise<{ forwardMs: number; backMs: number; same: boolean }> {
  const zone = instance.hypervisor.zone(0)!;
  let stopped: ((e: StopEvent) => void) | undefined;
  zone.onStop((e) => stopped?.(e));
  const next = () => new Promise<StopEvent>((resolve) => (stopped = resolve));
  let wait = next();
  zone.halt();
  await wait;
  const before = zone.cpus.map((c) => c.saveState!());
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) {
    wait = next();
    zone.resume(new Map([[1, 'step']]), 'stop');
    await wait;
  }
  const t1 = performance.now();
  for (let i = 0; i < STEPS; i++) zone.reverse('step', 1);
  const t2 = performance.now();
  const after = zone.cpus.map((c) => c.saveState!());
  zone.onStop(undefined);
  const regs = (s: unknown[]) => s.map((x) => Array.from((x as { r: BigUint64Array }).r).join(',')).join(';');
  return { forwardMs: (t1 - t0) / STEPS, backMs: (t2 - t1) / STEPS, same: regs(before) === regs(after) };
}

/** One boot in this process (a child per mode: a boot warms the compiled-block cache the next would share). */
async function child(mode: string): Promise<void> {
  let steps: Awaited<ReturnType<typeof stepBackAndForth>> | undefined;
  const options = mode === 'record' ? { recordReplay: { mode: 'record' as const, dir: mkdtempSync(join(tmpdir(), 'bench-record-')) } } : {};
  const boot = await bootOurs(spec, config, options, mode === 'record' ? async (i) => void (steps = await stepBackAndForth(i)) : undefined);
  console.log(JSON.stringify({ cpuSeconds: boot.cpuSeconds, bootSeconds: boot.bootSeconds, instructions: boot.instructions, steps }));
}

function run(mode: string): { cpuSeconds: number; bootSeconds: number; instructions: number; steps?: Awaited<ReturnType<typeof stepBackAndForth>> } {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`${mode} boot failed: ${r.stderr.slice(-2000)}${r.stdout.slice(-2000)}`);
  return JSON.parse(line);
}

const childMode = process.argv.indexOf('--child');
if (childMode >= 0) {
  await child(process.argv[childMode + 1]!);
  process.exit(0);
}
console.log(`aarch64 Linux boot to BOOT-OK, plain and recorded: ${spec.kernelName} + ${spec.initramfs}`);
const plain = run('plain');
console.log(`  plain:    ${plain.bootSeconds.toFixed(2)} s wall, ${plain.cpuSeconds.toFixed(2)} s CPU, ${plain.instructions} instructions`);
const recorded = run('record');
const steps = recorded.steps;
console.log(`  recorded: ${recorded.bootSeconds.toFixed(2)} s wall, ${recorded.cpuSeconds.toFixed(2)} s CPU, ${recorded.instructions} instructions`);
console.log(`  recording overhead: ${((recorded.cpuSeconds / plain.cpuSeconds - 1) * 100).toFixed(1)}% CPU per boot (target: at most 10%), ` +
  `${((recorded.cpuSeconds / recorded.instructions) / (plain.cpuSeconds / plain.instructions) * 100 - 100).toFixed(1)}% CPU per instruction`);
console.log(`  ${STEPS} single steps: ${steps!.forwardMs.toFixed(3)} ms each forward (history kept), ${steps!.backMs.toFixed(3)} ms each back (reverse-stepi); registers equal again: ${steps!.same}`);
process.exit(0);
