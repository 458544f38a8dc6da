import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { LogLimiter } from '../../src/util/log-limiter.js';
import { BoundedOutput } from '../../src/cli/bounded-output.js';

describe('LogLimiter: one token bucket per source', () => {
  it('lets a burst through, then the refill rate; counts the rest and says how many were dropped', () => {
    let t = 0;
    const out: string[] = [];
    const logs = new LogLimiter((l) => out.push(l), { burst: 3, perSecond: 2 }, () => t);
    for (let i = 0; i < 1000; i++) logs.log(1, `flood ${i}`);
    logs.log(2, 'zone 2 is not silenced by zone 1');
    expect(out).toEqual(['flood 0', 'flood 1', 'flood 2', 'zone 2 is not silenced by zone 1']);
    expect(logs.dropped(1)).toBe(997);
    t += 500; // one token back
    logs.log(1, 'after half a second');
    expect(out.slice(4)).toEqual(['zone 1: 997 messages dropped (more than 2 a second)', 'after half a second']);
    logs.log(1, 'no token left');
    logs.flush();
    expect(out.slice(6)).toEqual(['zone 1: 1 message dropped (more than 2 a second)']);
    expect(logs.dropped(1)).toBe(998);
  });

  it('reports the count by itself once the flood stops', async () => {
    const out: string[] = [];
    const logs = new LogLimiter((l) => out.push(l), { burst: 1, perSecond: 50 });
    for (let i = 0; i < 10; i++) logs.log('gdb stub of zone 3', 'bad packet');
    await new Promise((r) => setTimeout(r, 1100));
    expect(out).toEqual(['bad packet', 'gdb stub of zone 3: 9 messages dropped (more than 50 a second)']);
  });
});

describe('BoundedOutput: a reader that never reads', () => {
  it('holds at most the cap in memory, drops the rest with a count, and resumes with a note once the reader drains', async () => {
    // A real pipe to a process that does not read until told to (on fd 3), then keeps the tail.
    const child = spawn('sh', ['-c', 'read go <&3; tail -c 300'], { stdio: ['pipe', 'pipe', 'inherit', 'pipe'] });
    let tail = '';
    child.stdout!.on('data', (d: Buffer) => (tail += d.toString()));
    const stdin = child.stdin!;
    const out = new BoundedOutput(stdin, 256 * 1024);
    const line = 'x'.repeat(1023) + '\n';
    for (let i = 0; i < 20_000; i++) out.write(line); // 20 MiB offered
    expect(stdin.writableLength).toBeLessThanOrEqual(256 * 1024 + 1024);
    const dropped = out.dropped;
    expect(dropped).toBeGreaterThan(19 * 1024 * 1024);
    (child.stdio[3] as NodeJS.WritableStream).write('go\n');
    await new Promise((r) => stdin.once('drain', r));
    out.write('after\n');
    expect(out.dropped).toBe(dropped);
    stdin.end();
    await new Promise((r) => child.once('exit', r));
    expect(tail.endsWith(`\n[hvisor: ${dropped} bytes of output dropped: the reader did not keep up]\nafter\n`)).toBe(true);
  });
});
