/**
 * Record/replay of a zone (src/hypervisor/replay/): Debian's arm64 Linux on one vCPU, given a KASLR
 * seed, boots to a BusyBox shell under `--record`, the test types commands; `--replay` of that folder
 * runs the zone again with the same input at the same instruction counts and must write the same
 * console bytes and end at the same count. Logs changed by hand are refused naming the first divergence.
 * Beside it zoneR (a bare-metal heartbeat on CPU 1) is recorded and replayed too, and keeps beating
 * while gdb takes zone0 backwards: only the debugged zone moves back.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance, type LaunchOptions } from '../../src/cli/launch.js';
import { fixtureMatching, REPO } from '../helpers/fixtures.js';
import { GuestConsole } from '../helpers/guest-console.js';
import { buildInitramfs, scratch, shellInit } from '../helpers/linux-initramfs.js';
import type { ReplayOutcome } from '../../src/hypervisor/replay/record-replay.js';
import { gdbBatch } from '../gdbstub/gdb-batch.js';
import { beatZoneJson, buildBeatGuest } from '../../bench/aarch64-beat-guest.js';
import { tool } from '../helpers/fixtures.js';

describe('record/replay of an aarch64 Linux zone', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  const replay = async (dir: string, options: Omit<LaunchOptions, 'recordReplay' | 'gdbBasePort'>, output?: GuestConsole): Promise<ReplayOutcome> => {
    instance = await launch({ ...options, gdbBasePort: false, recordReplay: { mode: 'replay', dir }, log: () => {}, ...(output && { output: output.append }) });
    const outcome = await instance.recordReplay!.outcome;
    await instance.close();
    instance = undefined;
    return outcome;
  };

  it('replays a recorded boot with typed shell commands to the same console bytes and instruction counts; refuses changed logs naming the first divergence', async () => {
    const dir = scratch('a64-record-');
    const config = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64/zone0-linux.json'), 'utf8'));
    config.cpus = [0];
    // The board's PL031 too: Linux reads the host's wall clock through it (recorded, replayed).
    config.memory_regions.push({ type: 'io', physical_start: '0x9010000', virtual_start: '0x9010000', size: '0x1000' });
    config.kernel_filepath = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    config.initrd_filepath = buildInitramfs({ base: 'initramfs-arm64.cpio.gz', init: shellInit('zone0# ') });
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
    const ZONER_RAM = 0x7000_0000;
    const beat = buildBeatGuest(62_500, undefined, tool);
    writeFileSync(join(dir, 'zoneR.json'), JSON.stringify(beatZoneJson(1, 'zoneR', beat.image, ZONER_RAM, 1)));
    // Seeded, as a board's firmware would: the kernel runs at a KASLR offset (the replay gets the same seed).
    const options = { board: 'qemu-virt-aarch64', zones: [join(dir, 'zone0.json'), join(dir, 'zoneR.json')], kaslrSeed: 0x5eedn };
    const log = join(dir, 'log');

    // Record: boot, type two commands, stop.
    let typeOn: (bytes: Uint8Array) => void = () => {};
    const recorded = new GuestConsole('zone0-linux', (b) => typeOn(b));
    instance = await launch({ ...options, gdbBasePort: false, output: recorded.append, log: () => {}, recordReplay: { mode: 'record', dir: log } });
    typeOn = (b) => instance!.consoles.type(0, b);
    await recorded.waitFor(/SHELL-READY[\s\S]*zone0# $/, 'the shell prompt', 420_000);
    expect(await recorded.run('echo hello $((6*7))', /hello 42\n[\s\S]*zone0# $/)).toMatch(/hello 42/);
    expect(await recorded.run('uname -m', /aarch64\n[\s\S]*zone0# $/)).toMatch(/aarch64/);
    const zone = instance.hypervisor.zone(0)!;
    await instance.close();
    const end = zone.instructionCount;
    instance = undefined;
    const events = readFileSync(join(log, 'zone0.events'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const typed = events.filter((e) => typeof e['in'] === 'string');
    expect(typed.map((e) => Buffer.from(e['data'] as string, 'base64').toString())).toEqual(['echo hello $((6*7))\n', 'uname -m\n']);
    expect(events.at(-1)).toMatchObject({ end: true, at: end });

    // Replay: the same bytes, the same count at every event and at the end; the zone then runs on live.
    const again = new GuestConsole('zone0-linux');
    instance = await launch({ ...options, gdbBasePort: 0, recordReplay: { mode: 'replay', dir: log }, log: () => {}, output: again.append });
    const outcome = await instance.recordReplay!.outcome;
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.zones.find((z) => z.zone === 0)).toEqual({ zone: 0, events: events.length - 1, instructions: end, output: readFileSync(join(log, 'zone0.console')).length });
    // (The recording's console has its open prompt line ended at close; the replay's is still open.)
    expect(again.text().trimEnd()).toBe(recorded.text().trimEnd());

    // Reverse execution in gdb on the replayed zone: 1000 steps back to the same registers; back to
    // the instruction that last wrote jiffies (the timer tick's, steps taking interrupts).
    const port = instance.gdb.get(0)!.port;
    const physical = instance.build.machine.physical;
    const zoneRBeats = () => physical.read(ZONER_RAM + Number(beat.beats - 0x4000_0000n), 8)!;
    const listed = execFileSync('node', [join(REPO, 'dist/src/cli/main.js'), 'symbols', config.kernel_filepath, '-o', join(dir, 'kernel.elf'), '--list'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const linked = /^([0-9a-f]{16}) \S jiffies_64$/m.exec(listed)?.[1];
    const kaslr = await gdbBatch(port, undefined, ['monitor linux kaslr'], { timeoutMs: 600_000 });
    const offset = /KASLR offset (0x[0-9a-f]+)/.exec(kaslr.stdout + kaslr.stderr)?.[1];
    expect(linked, listed.slice(0, 500)).toBeDefined();
    expect(offset, kaslr.stdout + kaslr.stderr).toBeDefined();
    // Away from its link address: the watchpoint below is where hvisor symbols puts jiffies_64 plus this offset.
    expect(BigInt(offset!)).not.toBe(0n);
    const at = `*(unsigned long *)0x${BigInt.asUintN(64, BigInt(`0x${linked}`) + BigInt(offset!)).toString(16)}`;
    const beatsBeforeGdb = zoneRBeats();
    const gdb = await gdbBatch(port, undefined, [
      'echo <A>\\n', 'info registers', 'stepi 1000', 'echo <B>\\n', 'info registers', 'reverse-stepi 1000', 'echo <C>\\n', 'info registers', 'echo <D>\\n',
      'monitor sstep irq', `watch ${at}`, 'stepi 400000', 'echo <FORWARD>\\n', 'set $aw = $pc', 'p/x $pc', `p/x ${at}`, 'stepi 50', 'echo <REVERSE>\\n',
      'reverse-continue', 'echo <BACK>\\n', 'p/x $pc', `p/x ${at}`, 'stepi', 'p/x $pc', `p/x ${at}`, 'echo <END>\\n',
      // The symbols at the offset name the code that ticks jiffies.
      `symbol-file ${join(dir, 'kernel.elf')} -o ${offset}`, 'info symbol $pc', 'echo <SYM>\\n', 'delete',
      // Across continues (re-execution from a checkpoint): two ticks on, back to the first.
      'break *$aw', 'continue', 'echo <T1>\\n', 'info registers', 'continue', 'echo <T2>\\n', 'info registers',
      'reverse-continue', 'echo <T1BACK>\\n', 'info registers', 'echo <T3>\\n', 'delete', 'monitor snapshot list',
    ], { timeoutMs: 900_000 });
    // zoneR beat on while zone0 went backwards (its vCPU is never stopped by zone0's gdb).
    expect(zoneRBeats()).toBeGreaterThan(beatsBeforeGdb);
    const part = (from: string, to: string) => gdb.stdout.slice(gdb.stdout.indexOf(`<${from}>`), gdb.stdout.indexOf(`<${to}>`));
    const registers = (text: string) => text.split('\n').filter((l) => /^(x\d+|sp|pc|cpsr|fpsr|fpcr)\s+0x/.test(l));
    expect(registers(part('A', 'B')).length).toBe(36);
    expect(registers(part('C', 'D'))).toEqual(registers(part('A', 'B')));
    // Forward: gdb stops just after the write (it steps over the writing instruction itself).
    const forward = part('D', 'FORWARD');
    const [, before, after] = /Old value = (\d+)\s+New value = (\d+)/.exec(forward) ?? [];
    // The tick adds the ticks since the last update: one, or several after an idle stretch.
    expect(Number(after)).toBeGreaterThan(Number(before));
    const [afterWrite, value] = [...part('FORWARD', 'REVERSE').matchAll(/= (0x[0-9a-f]+)/g)].map((m) => BigInt(m[1]!));
    expect(value).toBe(BigInt(after!));
    // Backward: before the writing instruction, jiffies as it was; one step on, the write again.
    const back = [...part('BACK', 'END').matchAll(/= (0x[0-9a-f]+)/g)].map((m) => BigInt(m[1]!));
    expect(part('REVERSE', 'BACK')).toMatch(/Hardware watchpoint \d+: /);
    expect(back[1]).toBe(BigInt(before!));
    expect(back[2]).toBe(afterWrite);
    expect(back[3]).toBe(BigInt(after!));
    expect(part('END', 'SYM')).toMatch(/^\w+ \+ \d+ in section \S+$/m);
    // Back across the continue to the next tick: the registers the forward run had there.
    const t1 = registers(part('T1', 'T2'));
    expect(t1.length).toBe(36);
    expect(registers(part('T2', 'T1BACK'))).not.toEqual(t1);
    expect(registers(part('T1BACK', 'T3'))).toEqual(t1);
    // gdb prints monitor output on stderr in batch mode.
    expect(gdb.stderr).toMatch(/\d+ single step\(s\) can be undone/);
    expect(gdb.stderr).toMatch(/[1-8] checkpoint\(s\) for going back across runs/);
    await instance.close();
    instance = undefined;

    // A changed log: the wall clock answers 1999 (the kernel prints the RTC's time as it sets the system clock).
    const clockRead = events.findIndex((e) => e['value'] === 'wall-clock');
    expect(clockRead).toBeGreaterThan(0);
    const mutate = (name: string, change: (e: Record<string, unknown>, i: number) => void): string => {
      const copy = join(dir, name);
      cpSync(log, copy, { recursive: true });
      const lines = events.map((e) => {
        const c = { ...e };
        change(c, events.indexOf(e));
        return JSON.stringify(c);
      });
      writeFileSync(join(copy, 'zone0.events'), lines.join('\n') + '\n');
      return copy;
    };
    expect(recorded.text()).toMatch(/rtc-pl031 [^\n]*setting system clock to 20\d\d-/);
    const y1999 = BigInt(Date.UTC(1999, 0, 1)) * 1_000_000n;
    const first = BigInt(events[clockRead]!['v'] as string);
    const otherClock = await replay(mutate('log-clock', (e) => e['value'] === 'wall-clock' && (e['v'] = String(y1999 + BigInt(e['v'] as string) - first))), options);
    expect(otherClock.ok).toBe(false);
    if (otherClock.ok) return;
    expect(otherClock.divergence.zone).toBe(0);
    // The kernel takes another path (a read one instruction later, or other console bytes): named at once.
    expect(otherClock.divergence.event).toBeGreaterThanOrEqual(clockRead);
    expect(otherClock.divergence.message).toMatch(/^replay diverged in zone 0 at event \d+ \(after event \d+: a read of wall-clock at instruction \d+\): expected (console byte \d+ ".*"|a read of wall-clock at instruction \d+), got (".*" at instruction \d+|a read of wall-clock at instruction \d+)$/);

    // A changed log: the read moved to an instruction where the kernel does not read the clock.
    const moved = await replay(mutate('log-moved', (e, i) => i === clockRead && (e['at'] = (e['at'] as number) - 1)), options);
    expect(moved.ok).toBe(false);
    if (moved.ok) return;
    expect(moved.divergence.event).toBe(clockRead - 1);
    expect(moved.divergence.message).toMatch(new RegExp(`^replay diverged in zone 0 at event ${clockRead - 1}.*: expected a read of wall-clock at instruction ${(events[clockRead]!['at'] as number) - 1}, got a read of wall-clock at instruction ${events[clockRead]!['at']}$`));
  }, 1_500_000);
});
