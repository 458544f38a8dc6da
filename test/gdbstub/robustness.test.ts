import { describe, expect, it } from 'vitest';
import { GdbSession } from '../../gdbstub/session.js';
import type { GdbMemoryRegion } from '../../gdbstub/target.js';
import { decodeBody, frame } from '../helpers/rsp-client.js';
import { FakeZone, RAM_BASE } from './fake-zone.js';
import { buildGuestProgram } from './guest-program.js';

/** A session fed directly (no socket): collects what it writes. */
function directSession(zone: FakeZone) {
  const written: string[] = [];
  let ended = false;
  const log: string[] = [];
  const session = new GdbSession(zone, { write: (b) => written.push(b.toString('latin1')), end: () => (ended = true) }, { log: (l) => log.push(l) });
  const feed = (text: string) => session.feed(Buffer.from(text, 'latin1'));
  /** The payload of the last packet written. */
  const last = () => {
    for (let i = written.length - 1; i >= 0; i--) {
      const m = /^\$([^#]*)#[0-9a-f]{2}$/.exec(written[i]!);
      if (m) return decodeBody(m[1]!);
    }
    return undefined;
  };
  return { session, feed, written, last, log, isEnded: () => ended };
}

/** Deterministic pseudo-random numbers (xorshift32). */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

const PREFIXES = ['m', 'M', 'X', 'g', 'G', 'p', 'P', 'Z0,', 'z1,', 'Z2,', 'H', 'Hg', 'Hc', 'T', 'v', 'vCont;', 'vCont;s:', 'q', 'qXfer:', 'qXfer:features:read:', 'qXfer:threads:read::', 'qRcmd,', 'qThreadExtraInfo,', 'Q', 'D', '?', 'c', 's', 'C', 'S', 'vAttach;'];

describe('session robustness', () => {
  const program = buildGuestProgram();

  it('survives 2000 random packets: every one answered, nothing thrown, the session still serves memory', () => {
    const zone = new FakeZone('zone0', program.image, [RAM_BASE, RAM_BASE]);
    const d = directSession(zone);
    d.feed(frame('qSupported:multiprocess+'));
    const random = rng(12345);
    const alphabet = '0123456789abcdefABCDEF,:;.-pxX=+}*#$\u0003\u00ff';
    for (let i = 0; i < 2000; i++) {
      let body = PREFIXES[Math.floor(random() * PREFIXES.length)]!;
      const n = Math.floor(random() * 24);
      for (let k = 0; k < n; k++) body += alphabet[Math.floor(random() * alphabet.length)];
      // Never resume (the fake would start running) and never kill: those are tested elsewhere.
      if (/^[cCsS?]|^vCont;|^vAttach|^vKill|^D|^k/.test(body)) continue;
      const before = d.written.length;
      expect(() => d.feed(frame(body))).not.toThrow();
      expect(d.written.length, `no reply to ${JSON.stringify(body)}`).toBeGreaterThan(before);
    }
    expect(zone.halted).toBe(true);
    // Only protocol errors were logged: no handler failed on an unexpected exception.
    expect(d.log.filter((l) => l.includes(' failed: '))).toEqual([]);
    d.feed(frame('m80000000,4'));
    expect(d.last()).toBe('97050000');
    zone.dispose();
  });

  it('survives random bytes on the wire and resynchronises on the next packet', () => {
    const zone = new FakeZone('zone0', program.image, [RAM_BASE]);
    const d = directSession(zone);
    const random = rng(777);
    for (let i = 0; i < 2000; i++) {
      let noise = '';
      const n = Math.floor(random() * 64);
      for (let k = 0; k < n; k++) {
        const c = Math.floor(random() * 256);
        noise += c === 3 ? '\u0004' : String.fromCharCode(c); // Ctrl-C only matters while running
      }
      expect(() => d.feed(noise)).not.toThrow();
    }
    d.feed('#00' + frame('m80000000,4'));
    d.feed(frame('m80000000,4'));
    expect(d.last()).toBe('97050000');
    zone.dispose();
  });

  it('rejects a resume while running and a second ? while running; Ctrl-C still halts', async () => {
    const zone = new FakeZone('zone0', program.image, [RAM_BASE]);
    const d = directSession(zone);
    d.feed(frame('vCont;c'));
    expect(zone.halted).toBe(false);
    d.feed(frame('c'));
    expect(d.last()).toBe('E22');
    d.feed('\u0003');
    await new Promise((r) => setTimeout(r, 20));
    expect(d.last()).toMatch(/^T02thread:01;/);
    zone.dispose();
  });

  it('offers qXfer:memory-map only when the target has a map, and serves it', () => {
    const zone = new FakeZone('zone0', program.image, [RAM_BASE]);
    const d = directSession(zone);
    d.feed(frame('qSupported'));
    expect(d.last()).not.toContain('memory-map');
    d.feed(frame('qXfer:memory-map:read::0,1000'));
    expect(d.last()).toBe('');
    const mapped = Object.assign(new FakeZone('zone1', program.image, [RAM_BASE]), {
      memoryMap: (): readonly GdbMemoryRegion[] => [
        { kind: 'rom', start: 0x1000n, length: 0x1000n },
        { kind: 'ram', start: RAM_BASE, length: 0x10000n },
      ],
    });
    const m = directSession(mapped);
    m.feed(frame('qSupported'));
    expect(m.last()).toContain(';qXfer:memory-map:read+');
    m.feed(frame('qXfer:memory-map:read::0,1000'));
    expect(m.last()).toMatch(/^l<\?xml .*<memory-map><memory type="rom" start="0x1000" length="0x1000"\/><memory type="ram" start="0x80000000" length="0x10000"\/><\/memory-map>$/);
    zone.dispose();
    mapped.dispose();
  });

  it('answers a nak by resending the last reply', () => {
    const zone = new FakeZone('zone0', program.image, [RAM_BASE]);
    const d = directSession(zone);
    d.feed(frame('m80000000,4'));
    const reply = d.written[d.written.length - 1];
    d.feed('-');
    expect(d.written[d.written.length - 1]).toBe(reply);
    zone.dispose();
  });

  it('turns a target that throws into E01 replies and keeps serving; a throwing detach does not escape', () => {
    const zone = new FakeZone('zone0', program.image, [RAM_BASE]);
    const broken = new Proxy(zone, {
      get(target, key, receiver) {
        if (key === 'readMemory' || key === 'setBreakpoint' || key === 'resume') return () => { throw new Error(`${String(key)} exploded`); };
        const value = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const d = directSession(broken);
    d.feed(frame('m80000000,4'));
    expect(d.last()).toBe('E01');
    d.feed(frame('Z0,80000000,4'));
    expect(d.last()).toBe('E01');
    d.feed(frame('vCont;c'));
    expect(d.last()).toBe('E01');
    expect(d.log.some((l) => l.includes('readMemory exploded'))).toBe(true);
    d.feed(frame('p20'));
    expect(d.last()).toBe('0000008000000000');
    expect(() => d.session.close()).not.toThrow();
    expect(d.log.some((l) => l.includes('resume exploded'))).toBe(true);
    zone.dispose();
  });
});
