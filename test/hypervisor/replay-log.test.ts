/**
 * Record/replay logs (src/hypervisor/replay/replay-log.ts): what a recording writes reads back the
 * same, and a log that is not one (hand-edited, cut short, another zone's) is refused with one line
 * naming the file, the line and what is wrong, never a stack trace.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventsFile, readZoneLog, ReplayLogError, ZoneLogWriter } from '../../src/hypervisor/replay/replay-log.js';

const dir = () => mkdtempSync(join(tmpdir(), 'replay-log-'));

describe('replay logs', () => {
  it('reads back what a recording wrote: inputs, values, console bytes and the end', () => {
    const d = dir();
    const w = new ZoneLogWriter(d, 3, 'zone3');
    w.output(new TextEncoder().encode('boot\n'));
    w.input('uart /pl011@9000000', 1000, 77, 0x40001234n, new TextEncoder().encode('ls\n'));
    w.value('wall-clock', 1500, 1796680466000000000n);
    w.output(new Uint8Array(70_000).fill(0x41));
    w.end(2000, 99);
    const log = readZoneLog(d, 3);
    expect(log.name).toBe('zone3');
    expect(log.events).toEqual([
      { kind: 'input', index: 0, source: 'uart /pl011@9000000', at: 1000, ticks: 77, pc: '40001234', output: 5, data: new TextEncoder().encode('ls\n') },
      { kind: 'value', index: 1, source: 'wall-clock', at: 1500, value: '1796680466000000000' },
      { kind: 'end', index: 2, at: 2000, ticks: 99, output: 70_005 },
    ]);
    expect(log.console.length).toBe(70_005);
    expect(new TextDecoder().decode(log.console.subarray(0, 5))).toBe('boot\n');
  });

  const header = JSON.stringify({ format: 'hvisor-ts record 1', zone: 0, name: 'z' });
  const cases: [string, string, RegExp][] = [
    ['not JSON', `${header}\n{"i":0,`, /zone0\.events:2: not a JSON object$/],
    ['another format', '{"format":"other"}', /zone0\.events:1: not a hvisor-ts record 1 log \(format "other"\)$/],
    ['another zone', JSON.stringify({ format: 'hvisor-ts record 1', zone: 1 }), /zone0\.events:1: the log of zone 1, not of zone 0$/],
    ['an index out of order', `${header}\n{"i":1,"end":true,"at":5,"t":0,"out":0}`, /zone0\.events:2: event 1 where event 0 was expected$/],
    ['a count going back', `${header}\n{"i":0,"value":"wall-clock","at":9,"v":"1"}\n{"i":1,"end":true,"at":5,"t":0,"out":0}`, /zone0\.events:3: event 1 at instruction 5, before the previous event's 9$/],
    ['a negative count', `${header}\n{"i":0,"end":true,"at":-5,"t":0,"out":0}`, /zone0\.events:2: "at": a whole number from 0 up, got -5$/],
    ['bad input data', `${header}\n{"i":0,"in":"uart","at":1,"t":0,"pc":"0","out":0,"data":"!!"}`, /zone0\.events:2: "data": expected .*, got "!!"$/],
    ['an event of no kind', `${header}\n{"i":0,"at":1}`, /zone0\.events:2: neither an input \("in"\), a value \("value"\), a lifecycle command \("control"\) nor the end \("end"\)$/],
    ['an unknown lifecycle command', `${header}\n{"i":0,"control":"reboot","at":1,"t":0,"pc":"0","out":0}`, /zone0\.events:2: "control": shutdown, restart, start, got "reboot"$/],
    ['a start without its file', `${header}\n{"i":0,"control":"start","at":1,"t":0,"pc":"0","out":0}`, /zone0\.events:2: "file": the zone config a start names, as a string$/],
    ['an event after the end', `${header}\n{"i":0,"end":true,"at":1,"t":0,"out":0}\n{"i":1,"end":true,"at":1,"t":0,"out":0}`, /zone0\.events:3: an event after the end$/],
  ];
  it.each(cases)('refuses %s with one line naming file and line', (_what, text, message) => {
    const d = dir();
    writeFileSync(eventsFile(d, 0), text);
    writeFileSync(join(d, 'zone0.console'), '');
    let error: unknown;
    try {
      readZoneLog(d, 0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReplayLogError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('refuses a folder without a log', () => {
    expect(() => readZoneLog(dir(), 0)).toThrow(/zone0\.events: cannot read the zone 0's event log \(ENOENT\)$/);
  });
});
