/**
 * `hvisor run` under a service manager (issue 18, item 8): SIGTERM and SIGINT end it promptly and
 * cleanly, also while a zone floods SBI console writes (its exits once kept the event loop, and
 * with it the signal, waiting for seconds) and with a debugger and a control client connected:
 * every zone's last state printed, exit status 0, the control socket removed, the gdb port free
 * again. Runs the built CLI (dist/, which `npm test` builds first).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/fixtures.js';
import { sbiFloodZone } from '../hypervisor/riscv-test-zones.js';

const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');

function builtCli(): string {
  const source = join(REPO, 'src', 'cli', 'commands', 'run.ts');
  if (!existsSync(CLI) || statSync(CLI).mtimeMs < statSync(source).mtimeMs) throw new Error(`${CLI} is missing or older than its sources: run \`npm run build\``);
  return CLI;
}

async function until(predicate: () => boolean, what: string, text: () => string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; output:\n${text().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

describe('hvisor run and signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} ends the run promptly and cleanly, with a gdb client and a control client connected`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'hvisor-signal-'));
      const control = join(dir, 'control.sock');
      const demo = join(REPO, 'boards', 'guests', 'riscv64');
      const zones = [join(demo, 'zone0-demo.json'), join(demo, 'zoneR-heartbeat.json'), sbiFloodZone(dir, 2, 2, 0x101000000)];
      const args = [builtCli(), 'run', ...zones.flatMap((z) => ['--zone', z]), '--gdb-base-port', '0', '--control', control];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
      const plain = () => out.replace(/\x1b\[[0-9;]*m/g, '');
      await until(() => /zone0-demo\s*│ heartbeat 1/.test(plain()) && /zoneR\s*│ heartbeat 1/.test(plain()), 'a heartbeat from both demo zones', plain);

      const port = Number(/zone 1 zoneR \(CPU 3\): gdb-multiarch -ex "target remote 127\.0\.0\.1:(\d+)"/.exec(plain())?.[1]);
      expect(port).toBeGreaterThan(0);
      const gdb = connect(port, '127.0.0.1');
      const client = connect(control);
      for (const s of [gdb, client]) s.on('error', () => {});
      await Promise.all([gdb, client].map((s) => new Promise((r) => s.once('connect', r))));

      const sent = Date.now();
      child.kill(signal);
      const end = await exited;
      const tookMs = Date.now() - sent;
      gdb.destroy();
      client.destroy();
      expect(end).toEqual({ code: 0, signal: null });
      expect(tookMs).toBeLessThan(5000);
      expect(plain()).toMatch(/zone 0 zone0-demo: running\s*\nzone 1 zoneR: running\s*\nzone 2 sbi-flood: running\s*$/);
      expect(err).toBe('');
      expect(existsSync(control)).toBe(false);
      expect(await portFree(port)).toBe(true);
    });
  }
});
