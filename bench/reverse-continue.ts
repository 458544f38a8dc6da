/**
 * What going back across a long `continue` costs: a recorded bare-metal aarch64 zone (bench/
 * aarch64-beat-guest.ts: a timer beat every million instructions, a busy loop between) runs a
 * continue of CONTINUE instructions as under gdb (halted as Ctrl-C halts it), then, through the
 * zone's GdbTarget (what the stub runs for `bs` and `bc`; gdb's round trips not counted):
 * `bs` (re-executed from the newest checkpoint to one instruction before), `bc` with a watchpoint on
 * the beat counter (the last beat's store: a scan of the newest stretch and a run to the hit) and
 * `bc` with nothing set (every stretch re-executed back to the start of history). Wall and CPU ms.
 *
 * `node dist/bench/reverse-continue.js` or `npm run bench -- reverse-continue`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from '../src/cli/launch.js';
import type { StopEvent } from '../gdbstub/target.js';
import { beatZoneJson, buildBeatGuest } from './aarch64-beat-guest.js';

const CONTINUE = 300_000_000;

const dir = mkdtempSync(join(tmpdir(), 'bench-reverse-'));
const guest = buildBeatGuest(62_500, '*');
writeFileSync(join(dir, 'zone0.json'), JSON.stringify(beatZoneJson(0, 'zone0-beat', guest.image, 0x40000000, 0)));
const instance = await launch({ board: 'qemu-virt-aarch64', zones: [join(dir, 'zone0.json')], gdbBasePort: false, output: () => {}, log: () => {}, recordReplay: { mode: 'record', dir: join(dir, 'log') } });
const zone = instance.hypervisor.zone(0)!;
let stopped: ((e: StopEvent) => void) | undefined;
zone.onStop((e) => stopped?.(e));
const next = () => new Promise<StopEvent>((resolve) => (stopped = resolve));
while (zone.instructionCount < 2_000_000) await new Promise((r) => setTimeout(r, 5));
let wait = next();
zone.halt();
await wait;
const from = zone.instructionCount;
const c0 = process.cpuUsage();
const t0 = performance.now();
wait = next();
zone.resume(new Map(), 'continue');
while (zone.instructionCount < from + CONTINUE) await new Promise((r) => setTimeout(r, 5));
zone.halt();
await wait;
const forwardCpu = process.cpuUsage(c0);
const forwardMs = performance.now() - t0;
const instructions = zone.instructionCount - from;
const checkpoints = /\d+ checkpoint\(s\)[^\n]*/.exec(String(zone.history!.monitor(['list'])))?.[0] ?? 'no checkpoints';

const timed = (kind: 'step' | 'continue') => {
  let event: StopEvent | undefined;
  stopped = (e) => (event = e);
  const c = process.cpuUsage();
  const t = performance.now();
  zone.reverse(kind, 1);
  const used = process.cpuUsage(c);
  return { ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000, event };
};
const retired = zone.cpus[0]!.retired;
const step = timed('step');
const oneBack = step.event?.kind === 'step' && zone.cpus[0]!.retired === retired - 1;
zone.setWatchpoint(guest.beats, 8, 'write', true);
const watched = timed('continue');
const atStore = watched.event?.kind === 'watchpoint' && zone.cpus[0]!.pc === guest.beatStore + 4n;
zone.setWatchpoint(guest.beats, 8, 'write', false);
const whole = timed('continue');
await instance.close();

console.log(`a recorded bare-metal aarch64 zone: a continue of ${instructions} instructions (${(forwardMs / 1000).toFixed(1)} s wall, ${((forwardCpu.user + forwardCpu.system) / 1e6).toFixed(1)} s CPU, checkpoints included; ${checkpoints})`);
console.log(`  reverse-stepi (re-executed from the newest checkpoint): ${step.ms.toFixed(0)} ms, ${step.cpuMs.toFixed(0)} ms CPU; one instruction back: ${oneBack}`);
console.log(`  reverse-continue to the last watched write (scan of the newest stretch, then a run to it): ${watched.ms.toFixed(0)} ms, ${watched.cpuMs.toFixed(0)} ms CPU; after the store: ${atStore}`);
console.log(`  reverse-continue with nothing set (the whole continue re-executed, to the start of history): ${whole.ms.toFixed(0)} ms, ${whole.cpuMs.toFixed(0)} ms CPU; ${whole.event?.kind}`);
process.exit(0);
