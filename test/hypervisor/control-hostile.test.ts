import { describe, expect, it, vi } from 'vitest';
import { chmodSync, lstatSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hypervisor } from '../../src/hypervisor/lifecycle/hypervisor.js';
import { ControlServer, MAX_REPLY_BACKLOG } from '../../src/hypervisor/control/control-server.js';
import { zoneList, zoneStart } from '../../src/hypervisor/control/control-client.js';
import { FakeCpu, Op, encode } from './fake-cpu.js';
import { qemuVirtAarch64 } from './boards.js';
import { config } from './zone-fixture.js';

/** zone0 counting in r1 (its progress shows the hypervisor was never frozen), and zone1's files. */
function running() {
  const { machine } = qemuVirtAarch64();
  const hv = new Hypervisor({ machine, createCpu: FakeCpu.factory(), timerFrequency: 1000 });
  hv.startZone(config(0), [{ name: 'k0', paddr: 0x40400000, data: encode([[Op.Inc, 0], [Op.Jump, 0, 0x40400000n]]) }]);
  const dir = mkdtempSync(join(tmpdir(), 'ctl-'));
  const j = JSON.parse(readFileSync(join(import.meta.dirname, 'configs', 'qemu-aarch64-zone1_linux_with_pci.json'), 'utf8'));
  writeFileSync(join(dir, 'Image'), encode([[Op.Inc, 0], [Op.Jump, 0, 0x50400000n]]));
  writeFileSync(join(dir, 'linux2.dtb'), new Uint8Array(8));
  const zone1 = (mutate: (j: any) => void = () => {}) => {
    const c = structuredClone(j);
    mutate(c);
    const file = join(dir, `zone1-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(c));
    return file;
  };
  return { hv, dir, zone1, progress: () => (hv.zone(0)!.cpus[0] as FakeCpu).r[1]! };
}

const sockPath = (dir: string) => join(dir, 'hvisor.sock');

describe('control socket: who may connect, what it may replace (issue 18, item 6)', () => {
  it('is mode 0600 and refuses another user (uid 65534) even in a world-readable folder; the owner connects', async () => {
    const { hv, dir } = running();
    chmodSync(dir, 0o755);
    const path = sockPath(dir);
    const server = await ControlServer.listen(hv, { path });
    try {
      expect(lstatSync(path).isSocket()).toBe(true);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const probe = `require('net').connect(${JSON.stringify(path)}).on('connect', () => { console.log('connected'); process.exit(0) }).on('error', (e) => { console.log(e.code); process.exit(0) })`;
      const asNobody = execFileSync(process.execPath, ['-e', probe], { uid: 65534, gid: 65534, encoding: 'utf8' }).trim();
      expect(asNobody).toBe('EACCES');
      expect((await zoneList({ path })).zones).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('never removes a regular file at the path, refuses a live server (a second instance), replaces only a stale socket', async () => {
    const { hv, dir } = running();
    const file = join(dir, 'precious.txt');
    writeFileSync(file, 'keep me');
    await expect(ControlServer.listen(hv, { path: file })).rejects.toThrow(`${file}: exists and is not a socket; not removing it`);
    expect(readFileSync(file, 'utf8')).toBe('keep me');

    const path = sockPath(dir);
    const first = await ControlServer.listen(hv, { path });
    await expect(ControlServer.listen(hv, { path })).rejects.toThrow(`${path}: another hvisor is serving this control socket`);
    expect((await zoneList({ path })).zones).toHaveLength(1); // the first still answers
    await first.close();
    expect(() => lstatSync(path)).toThrow(/ENOENT/); // close removed its own socket

    // A socket left by a killed instance: nobody answers, so it is replaced.
    const stale = join(dir, 'stale.sock');
    const killed = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => killed.stdout!.once('data', r));
    killed.kill('SIGKILL');
    await new Promise((r) => killed.once('exit', r));
    expect(lstatSync(stale).isSocket()).toBe(true);
    const next = await ControlServer.listen(hv, { path: stale });
    expect((await zoneList({ path: stale })).zones).toHaveLength(1);
    await next.close();
  });

  it('drops a client that never reads its replies; memory stays bounded and others are served', async () => {
    const { hv, dir } = running();
    const path = sockPath(dir);
    const server = await ControlServer.listen(hv, { path });
    try {
      const closed = await new Promise<number>((resolve) => {
        const greedy = connect(path);
        greedy.pause(); // never reads
        let sent = 0;
        const flood = () => {
          // 20 MiB of replies asked for, far beyond the backlog the server keeps.
          while (sent < 200_000 && greedy.write('{"cmd":"list"}\n')) sent++;
          if (sent < 200_000 && !greedy.destroyed) greedy.once('drain', flood);
        };
        greedy.on('connect', flood);
        greedy.on('error', () => {});
        greedy.on('close', () => resolve(sent));
      });
      expect(closed).toBeLessThan(200_000);
      expect(MAX_REPLY_BACKLOG).toBeLessThanOrEqual(1 << 20);
      expect((await zoneList({ path })).zones).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe('files a client names (issue 18, item 5)', () => {
  it('a FIFO or /dev/zero as the config, kernel, dtb or initrd is refused at once while the zones keep running', async () => {
    const { hv, dir, zone1, progress } = running();
    const path = sockPath(dir);
    const server = await ControlServer.listen(hv, { path });
    hv.run();
    try {
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const cases: [string, RegExp][] = [
        [fifo, /fifo: \(top level\): the zone config must be a regular file, but this is a FIFO/],
        ['/dev/zero', /\/dev\/zero: \(top level\): the zone config must be a regular file, but this is a character device/],
        [dir, /: the zone config must be a regular file, but this is a directory/],
        [zone1((j) => (j.kernel_filepath = fifo)), /fifo: .*kernel_filepath cannot be read \(the kernel_filepath must be a regular file, but this is a FIFO\)/],
        [zone1((j) => (j.dtb_filepath = '/dev/zero')), /\/dev\/zero: .*dtb_filepath cannot be read \(the dtb_filepath must be a regular file, but this is a character device\)/],
        [zone1((j) => ((j.initrd_filepath = '/dev/urandom'), (j.initrd_load_paddr = '0x50800000'))), /initrd_filepath cannot be read \(the initrd_filepath must be a regular file, but this is a character device\)/],
      ];
      for (const [file, error] of cases) {
        const before = progress();
        await expect(zoneStart({ path }, file)).rejects.toThrow(error);
        await vi.waitFor(() => expect(progress()).toBeGreaterThan(before), { timeout: 20_000 });
        // The same refusal at start-up (`hvisor run --zone FILE`), which reads synchronously.
        expect(() => hv.startZoneFile(file)).toThrow(error);
      }
      expect(hv.list().map((z) => z.id)).toEqual([0]);
      expect((await zoneStart({ path }, zone1())).message).toBe('zone 1 (linux2) started');
    } finally {
      hv.stop();
      await server.close();
    }
  });

  it('an image larger than the zone RAM is refused by its size, before it is read; errors never quote a file', async () => {
    const { hv, dir, zone1 } = running();
    const path = sockPath(dir);
    const server = await ControlServer.listen(hv, { path });
    try {
      const big = join(dir, 'big.img');
      execFileSync('truncate', ['-s', '3G', big]);
      await expect(zoneStart({ path }, zone1((j) => (j.kernel_filepath = big)))).rejects.toThrow(
        /kernel_filepath cannot be read \(the kernel_filepath is 3221225472 bytes, more than the \d+ it may have\)/,
      );
      const secret = join(dir, 'secret');
      writeFileSync(secret, 'root:$6$s3cr3tHash:19000:0:99999:7:::\n');
      const refused = await zoneStart({ path }, secret).catch((e: Error) => e.message);
      expect(refused).toMatch(/secret: \(top level\): not valid JSON/);
      expect(refused).not.toMatch(/root|s3cr3t/);
    } finally {
      await server.close();
    }
  });
});
