/**
 * Reverse execution across runs (src/hypervisor/replay/reverse-history.ts, rerun.ts), through
 * gdb-multiarch on a recorded bare-metal aarch64 zone: its timer interrupt counts beats (one store,
 * at `beat_store`) while a busy loop runs in long self-looping blocks, so each re-execution must
 * land every interrupt on the same instruction. Beside it zoneR, the same guest in its own zone,
 * keeps beating while zone0 goes back: only the debugged zone moves backwards.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { gdbBatch, printedValues } from '../gdbstub/gdb-batch.js';
import { beatZoneJson as zoneJson, buildBeatGuest } from '../../bench/aarch64-beat-guest.js';
import { tool } from '../helpers/fixtures.js';

/** gdb's `info registers` lines for these registers, as name → value. */
function registers(text: string): Map<string, bigint> {
  return new Map([...text.matchAll(/^(x\d+|pc|cpsr)\s+(0x[0-9a-f]+)/gm)].map((m) => [m[1]!, BigInt(m[2]!)]));
}

const REGS = 'info registers x5 x9 x10 pc cpsr';
/** One beat every 62,500 ticks of the 62.5 MHz counter: a million instructions of busy loop between beats. */
const PERIOD = 62_500;

describe('reverse execution across runs (record mode, aarch64)', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('reverse-continue and reverse-stepi go back through continues to the registers the forward run had; zoneR beats on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rerun-'));
    const guest = buildBeatGuest(PERIOD, '*', tool);
    const zoneR = buildBeatGuest(PERIOD, undefined, tool);
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(zoneJson(0, 'zone0-beat', guest.image, 0x40000000, 0)));
    writeFileSync(join(dir, 'zoneR.json'), JSON.stringify(zoneJson(1, 'zoneR', zoneR.image, 0x50000000, 1)));
    let out = '';
    instance = await launch({
      board: 'qemu-virt-aarch64',
      zones: [join(dir, 'zone0.json'), join(dir, 'zoneR.json')],
      gdbBasePort: 0,
      output: (t) => (out += t),
      log: (l) => (out += l + '\n'),
      recordReplay: { mode: 'record', dir: join(dir, 'log') },
    });
    const zone0 = instance.hypervisor.zone(0)!;
    const machine = instance.build.machine;
    const rBeats = () => machine.physical.read(0x50000000 + Number(zoneR.beats - 0x40000000n), 8)!;
    const deadline = Date.now() + 60_000;
    while (zone0.instructionCount < 5_000_000 || rBeats() < 3n) {
      if (Date.now() > deadline) throw new Error(`the zones never beat:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const beats = `*(long *)0x${guest.beats.toString(16)}`;
    const store = `*0x${guest.beatStore.toString(16)}`;
    const port = instance.gdb.get(0)!.port;

    // Forward: three beats, stopped at the store; back: the same registers at each, one step before the store, and forward again.
    const a = await gdbBatch(port, undefined, [
      'set architecture aarch64', `break ${store}`,
      'continue', 'echo <S1>\\n', REGS, 'continue', 'echo <S2>\\n', REGS, 'continue', 'echo <S3>\\n', REGS,
      'reverse-continue', 'echo <R2>\\n', REGS, 'reverse-continue', 'echo <R1>\\n', REGS,
      'reverse-stepi', 'echo <RS>\\n', REGS, `p/x ${beats}`, 'stepi', 'echo <F1>\\n', REGS, 'echo <END>\\n',
    ], { timeoutMs: 240_000 });
    const part = (text: string, from: string, to: string) => text.slice(text.indexOf(`<${from}>`), text.indexOf(`<${to}>`));
    const s1 = registers(part(a.stdout, 'S1', 'S2'));
    const s2 = registers(part(a.stdout, 'S2', 'S3'));
    expect(s1.size, a.stdout + a.stderr).toBe(5);
    expect(s2.get('x9')).not.toBe(s1.get('x9')); // the busy loop ran on between the beats
    expect(registers(part(a.stdout, 'R2', 'R1'))).toEqual(s2);
    expect(registers(part(a.stdout, 'R1', 'RS'))).toEqual(s1);
    const rs = registers(part(a.stdout, 'RS', 'F1'));
    expect(rs.get('pc')).toBe(guest.beatStore - 4n);
    expect(rs.get('x5')).toBe(s1.get('x5')! - 1n);
    expect(printedValues(part(a.stdout, 'RS', 'F1'))).toEqual([s1.get('x5')! - 1n]);
    expect(registers(part(a.stdout, 'F1', 'END'))).toEqual(s1);

    // A long continue (past a checkpoint taken while it ran) ended by Ctrl-C, then back to the last
    // beat's store with a watchpoint: the beat count before it, one step on the write.
    const from = zone0.instructionCount;
    let rFrom = 0n;
    const b = await gdbBatch(port, undefined, [
      'set architecture aarch64', 'continue', 'echo <HALTED>\\n', `watch ${beats}`, 'reverse-continue', 'echo <BACK>\\n', REGS, `p/x ${beats}`,
      'delete', 'stepi', 'echo <ON>\\n', `p/x ${beats}`, 'reverse-stepi', 'reverse-stepi', 'echo <BEFORE>\\n', 'p/x $pc', 'monitor snapshot list', 'echo <END>\\n',
    ], {
      timeoutMs: 240_000,
      interruptWhen: () => {
        rFrom ||= rBeats();
        return zone0.instructionCount > from + 150_000_000;
      },
      interruptAfterMs: 0,
    });
    const back = registers(part(b.stdout, 'BACK', 'ON'));
    expect(back.get('pc'), b.stdout + b.stderr).toBe(guest.beatStore);
    const [count] = printedValues(part(b.stdout, 'BACK', 'ON'));
    expect(count).toBe(back.get('x5')! - 1n);
    expect(count).toBeGreaterThan(s1.get('x5')! + 140n);
    expect(printedValues(part(b.stdout, 'ON', 'BEFORE'))).toEqual([count! + 1n]);
    // Two instructions back from after the store: the add before it (the first one undoes the stepi).
    expect(printedValues(part(b.stdout, 'BEFORE', 'END')), b.stdout + b.stderr).toEqual([guest.beatStore - 4n]);
    // gdb prints monitor output on stderr in batch mode.
    expect(b.stderr).toMatch(/([2-8]) checkpoint\(s\) for going back across runs/);
    // zoneR beat all along (other zones never go back).
    expect(rBeats()).toBeGreaterThan(rFrom + 100n);
  }, 600_000);
});
