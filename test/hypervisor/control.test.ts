import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hypervisor } from '../../src/hypervisor/lifecycle/hypervisor.js';
import { ControlServer } from '../../src/hypervisor/control/control-server.js';
import { ControlError, formatZoneList, zoneList, zoneRestart, zoneShutdown, zoneStart } from '../../src/hypervisor/control/control-client.js';
import { Errno } from '../../src/util/hvisor-error.js';
import { FakeCpu, Op, encode } from './fake-cpu.js';
import { qemuVirtAarch64 } from './boards.js';
import { config } from './zone-fixture.js';

function running() {
  const { machine } = qemuVirtAarch64();
  const hv = new Hypervisor({ machine, createCpu: FakeCpu.factory(), timerFrequency: 1000 });
  hv.startZone(config(0), [{ name: 'k0', paddr: 0x40400000, data: encode([[Op.WaitIrq, 0]]) }]);
  const dir = mkdtempSync(join(tmpdir(), 'ctl-'));
  const j = JSON.parse(readFileSync(join(import.meta.dirname, 'configs', 'qemu-aarch64-zone1_linux_with_pci.json'), 'utf8'));
  writeFileSync(join(dir, 'Image'), encode([[Op.Inc, 0], [Op.Jump, 0, 0x50400000n]]));
  writeFileSync(join(dir, 'linux2.dtb'), new Uint8Array(8));
  writeFileSync(join(dir, 'zone1.json'), JSON.stringify(j));
  return { hv, dir };
}

describe('control channel (hvisor zone list|start|shutdown against a running instance)', () => {
  it('over a Unix socket: list, start FILE, restart, shutdown ID, errors from the hypervisor', async () => {
    const { hv, dir } = running();
    const server = await ControlServer.listen(hv, { path: join(dir, 'hvisor.sock') });
    const at = { path: join(dir, 'hvisor.sock') };
    try {
      expect((await zoneList(at)).zones.map((z) => z.name)).toEqual(['root-linux']);
      const started = await zoneStart(at, join(dir, 'zone1.json'));
      expect(started.message).toBe('zone 1 (linux2) started');
      // Byte for byte what hvisor-tool's printf format strings (tools/hvisor.c) give, by printf(1).
      const row = '| %15u | %17s | %15s | %10s |\\n';
      const expected = execFileSync('printf', [`| %11s     | %10s        | %9s       | %10s |\\n${row}${row}`,
        'zone_id', 'cpus', 'name', 'status', '0', '0, 1', 'root-linux', 'running', '1', '2, 3', 'linux2', 'running'], { encoding: 'utf8' });
      expect(formatZoneList(started.zones)).toBe(expected);
      expect((await zoneRestart(at, 1)).message).toBe('zone 1 restarted');
      await expect(zoneStart(at, join(dir, 'zone1.json'))).rejects.toThrow(new ControlError('zone 1 is already running (' + join(dir, 'zone1.json') + ')', Errno.EBUSY));
      await expect(zoneShutdown(at, 0)).rejects.toThrow('zone 0 is the root zone and cannot be shut down');
      expect((await zoneShutdown(at, 1)).zones.map((z) => z.id)).toEqual([0]);
      await expect(zoneStart(at, join(dir, 'nope.json'))).rejects.toThrow(/nope\.json: \(top level\): cannot read the zone config \(ENOENT\)/);
    } finally {
      await server.close();
    }
  });

  it('malformed requests get an error line, the server carries on', async () => {
    const { hv, dir } = running();
    const path = join(dir, 'hvisor.sock');
    const server = await ControlServer.listen(hv, { path });
    try {
      const answers = await new Promise<string[]>((resolve, reject) => {
        const s = connect(path);
        let text = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => {
          text += d;
          const lines = text.split('\n').filter(Boolean);
          if (lines.length === 4) {
            s.end();
            resolve(lines);
          }
        });
        s.on('error', reject);
        s.write('{nope\n{"cmd":"fly"}\n{"cmd":"shutdown","id":-1}\n{"cmd":"list"}\n');
      });
      expect(answers.map((a) => JSON.parse(a))).toEqual([
        { ok: false, error: 'not JSON: {nope', errno: Errno.EINVAL },
        { ok: false, error: 'unknown cmd "fly": list, start, shutdown or restart', errno: Errno.EINVAL },
        { ok: false, error: '"shutdown" needs "id" (a zone id)', errno: Errno.EINVAL },
        { ok: true, zones: [{ id: 0, name: 'root-linux', cpus: [0, 1], state: 'running', halted: false, stage2Faults: 0 }] },
      ]);
    } finally {
      await server.close();
    }
  });

  it('says clearly when no hypervisor is running', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ctl-')), 'none.sock');
    await expect(zoneList({ path })).rejects.toThrow(new RegExp(`cannot reach a running hypervisor at ${path} .*is \`hvisor run\` running\\?`));
  });
});
