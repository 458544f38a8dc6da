import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GDB_BASE_PORT, GdbPortError, gdbCommandLine, gdbPortForZone } from '../../gdbstub/ports.js';
import { GdbServer } from '../../gdbstub/server.js';
import { tool } from '../helpers/fixtures.js';
import { FakeZone, RAM_BASE } from './fake-zone.js';
import { buildGuestProgram } from './guest-program.js';

describe('gdb ports and the printed command line', () => {
  it('puts zone0 on 1234 and zone N on base + N unless the zone config names a port', () => {
    expect(DEFAULT_GDB_BASE_PORT).toBe(1234);
    expect(gdbPortForZone(0)).toBe(1234);
    expect(gdbPortForZone(2)).toBe(1236);
    expect(gdbPortForZone(1, 4000)).toBe(4001);
    expect(gdbPortForZone(1, 4000, 5555)).toBe(5555);
    expect(() => gdbPortForZone(3, 65534)).toThrow(GdbPortError);
    expect(() => gdbPortForZone(3, 65534)).toThrow(/zone 3: gdb port 65537 is outside 1\.\.65535/);
    expect(() => gdbPortForZone(0, 1234, 0)).toThrow(GdbPortError);
  });

  it('prints the exact gdb command', () => {
    expect(gdbCommandLine(1234)).toBe('gdb-multiarch -ex "target remote 127.0.0.1:1234"');
    expect(gdbCommandLine(1235, '127.0.0.1', 'out/zoneR.elf')).toBe('gdb-multiarch out/zoneR.elf -ex "target remote 127.0.0.1:1235"');
    expect(gdbCommandLine(1236, '::1')).toBe('gdb-multiarch -ex "target remote [::1]:1236"');
    expect(gdbCommandLine(1235, '127.0.0.1', "my dir/it's.elf")).toBe(`gdb-multiarch 'my dir/it'\\''s.elf' -ex "target remote 127.0.0.1:1235"`);
  });

  it('the printed command, run by a shell, attaches to the zone', async () => {
    tool('gdb-multiarch');
    const program = buildGuestProgram();
    const zone = new FakeZone('zone0', program.image, [RAM_BASE]);
    const server = new GdbServer({ target: zone, port: 0 });
    await server.listen();
    try {
      const line = gdbCommandLine(server.port, '127.0.0.1', program.elf).replace(/^gdb-multiarch /, 'gdb-multiarch -nx -batch ');
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile('sh', ['-c', `${line} -ex 'p/x $pc'`], (e, out) => (e ? reject(e) : resolve(out))),
      );
      expect(stdout).toMatch(/^\$1 = 0x80000000$/m);
    } finally {
      await server.close();
      zone.dispose();
    }
  });

  it('reports a port that is taken, naming it', async () => {
    const program = buildGuestProgram();
    const zone = new FakeZone('zone0', program.image, [RAM_BASE]);
    const first = new GdbServer({ target: zone, port: 0, name: 'zone0' });
    await first.listen();
    const second = new GdbServer({ target: zone, port: first.port, name: 'zone1' });
    await expect(second.listen()).rejects.toThrow(new RegExp(`zone1: gdb stub cannot listen on 127\\.0\\.0\\.1:${first.port}: EADDRINUSE`));
    await first.close();
    zone.dispose();
  });
});
