/**
 * Record/replay of lifecycle commands (src/hypervisor/replay/): a recorded run whose control
 * channel starts a second zone, restarts it and shuts it down (`hvisor zone start|restart|shutdown`)
 * replays to the same instruction counts, the replay carrying the commands out where the recording
 * took them; a log with the shutdown moved is refused naming it.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { zoneRestart, zoneShutdown, zoneStart } from '../../src/hypervisor/control/control-client.js';
import type { Zone } from '../../src/hypervisor/zone/zone.js';
import { beatZoneJson, buildBeatGuest } from '../../bench/aarch64-beat-guest.js';
import { tool } from '../helpers/fixtures.js';

describe('record/replay of zone lifecycle commands', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('replays hvisor zone start, restart and shutdown at the recorded counts; a moved shutdown is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-lifecycle-'));
    const zone0 = join(dir, 'zone0.json');
    const zone1 = join(dir, 'zone1.json');
    writeFileSync(zone0, JSON.stringify(beatZoneJson(0, 'zone0-beat', buildBeatGuest(62_500, '*', tool).image, 0x40000000, 0)));
    writeFileSync(zone1, JSON.stringify(beatZoneJson(1, 'zone1-beat', buildBeatGuest(62_500, undefined, tool).image, 0x50000000, 1)));
    const control = { path: join(dir, 'control.sock') };
    const log = join(dir, 'log');
    const options = { board: 'qemu-virt-aarch64', zones: [zone0], gdbBasePort: false as const, log: () => {}, output: () => {} };
    const until = async (what: string, ok: () => boolean) => {
      const deadline = Date.now() + 60_000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const counted = (z: () => Zone | undefined, n: number) => until(`zone ${z()?.id ?? '?'} to pass ${n} instructions`, () => (z()?.instructionCount ?? 0) > n);

    instance = await launch({ ...options, control, recordReplay: { mode: 'record', dir: log } });
    const hv = instance.hypervisor;
    await counted(() => hv.zone(0), 3_000_000);
    await zoneStart(control, zone1);
    await counted(() => hv.zone(1), 2_000_000);
    await zoneRestart(control, 1);
    await counted(() => hv.zone(1), 4_000_000);
    await zoneShutdown(control, 1);
    const z0 = hv.zone(0)!;
    await counted(() => z0, z0.instructionCount + 2_000_000);
    await instance.close();
    instance = undefined;
    const lines = (zone: number) => readFileSync(join(log, `zone${zone}.events`), 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as Record<string, unknown>);
    const events0 = lines(0);
    const events1 = lines(1);
    expect(events0.filter((e) => e['control'] !== undefined)).toEqual([expect.objectContaining({ control: 'start', file: zone1 })]);
    expect(events1.map((e) => e['control'] ?? (e['end'] === true ? 'end' : e['value']))).toEqual(['restart', 'shutdown', 'end']);
    expect(events1[1]!['at']).toBe(events1[2]!['at']); // shut down: it ran no further

    // The replay starts, restarts and shuts down zone 1 itself, at the same counts.
    instance = await launch({ ...options, recordReplay: { mode: 'replay', dir: log } });
    const outcome = await instance.recordReplay!.outcome;
    expect(outcome).toEqual({ ok: true, zones: [
      { zone: 0, events: events0.length, instructions: events0.at(-1)!['at'], output: expect.any(Number) },
      { zone: 1, events: events1.length, instructions: events1.at(-1)!['at'], output: 0 },
    ] });
    await instance.close();
    instance = undefined;

    // The shutdown moved 1000 instructions on: zone 1 passes the recorded count without it.
    const moved = join(dir, 'moved');
    cpSync(log, moved, { recursive: true });
    const header = readFileSync(join(log, 'zone1.events'), 'utf8').split('\n')[0]!;
    const shifted = events1.map((e) => JSON.stringify(e['control'] === 'shutdown' || e['end'] === true ? { ...e, at: (e['at'] as number) + 1000 } : e));
    writeFileSync(join(moved, 'zone1.events'), [header, ...shifted].join('\n') + '\n');
    instance = await launch({ ...options, recordReplay: { mode: 'replay', dir: moved } });
    const diverged = await instance.recordReplay!.outcome;
    expect(diverged.ok).toBe(false);
    if (diverged.ok) return;
    expect(diverged.divergence.zone).toBe(1);
    expect(diverged.divergence.message).toMatch(/^replay diverged in zone 1 at event 1 \(after event 0: hvisor zone restart at instruction \d+\): expected hvisor zone shutdown at instruction \d+, got the zone ran from instruction \d+ to \d+ without a stop there$/);
  }, 240_000);
});
