/**
 * A virtio endpoint that cannot be set up (issue 18, item 2): a TCP port in use, an address not on
 * this host, a Unix socket path in a missing folder. At start-up the run is refused with one line
 * naming the zone, the device and the endpoint, and nothing stays open; at `hvisor zone start` on a
 * running instance only that start is refused, the running zones go on. Never an unhandled rejection
 * (vitest fails a run that has one).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { zoneList, zoneShutdown, zoneStart } from '../../src/hypervisor/control/control-client.js';
import { onFreePort } from '../helpers/ports.js';
import { scratch } from '../helpers/linux-initramfs.js';
import { counterZone0, riscvZone, ZONE0_COUNTER } from './riscv-test-zones.js';
import { assembleRiscv } from './riscv-asm.js';

const SPIN = '.globl _start\n_start:\n  j _start\n';

/** zone0 counting, and zone 1 with a disk image and a console on `endpoint` (virtio_cfg.json fields). */
function setup(endpoint: Record<string, unknown>) {
  const dir = scratch('endpoint-');
  const zone0 = counterZone0(dir);
  const zone1 = riscvZone(dir, 'zone1.json', {
    name: 'consoled', zone_id: 1, cpus: [2], interrupts: [6, 7],
    memory_regions: [
      { type: 'ram', physical_start: '0x101000000', virtual_start: '0x101000000', size: '0x1000000' },
      { type: 'virtio', physical_start: '0x10006000', virtual_start: '0x10006000', size: '0x2000' },
    ],
    kernel_filepath: assembleRiscv(SPIN, 0x101010000, 'spin'), kernel_load_paddr: '0x101010000', entry_point: '0x101010000', dtb_load_paddr: '0x101f00000',
  });
  writeFileSync(join(dir, 'disk.img'), new Uint8Array(4096));
  writeFileSync(join(dir, 'virtio.json'), JSON.stringify({
    zones: [{ id: 1, devices: [
      { type: 'blk', addr: '0x10006000', len: '0x200', irq: 6, img: 'disk.img' },
      { type: 'console', addr: '0x10007000', len: '0x200', irq: 7, ...endpoint },
    ] }],
  }));
  return { dir, zone0, zone1, virtio: join(dir, 'virtio.json') };
}

function occupy(port = 0): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
const portOf = (s: Server) => (s.address() as { port: number }).port;
const fds = () => readdirSync('/proc/self/fd').length;

describe('virtio endpoints that cannot be set up', () => {
  let instance: Instance | undefined;
  let busy: Server | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
    busy?.close();
    busy = undefined;
  });

  it('at start-up: a port in use, an address not on this host, a socket in a missing folder each refuse the run in one line, leaving nothing open', async () => {
    busy = await occupy();
    const port = portOf(busy);
    const missing = join(scratch('endpoint-'), 'missing', 'zone1.sock');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ tcp: port }, new RegExp(`^zone 1 \\(consoled\\) not started: virtio-console@10007000: console tcp 127\\.0\\.0\\.1:${port}: listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${port}$`)],
      [{ tcp: '192.0.2.1:4321' }, /^zone 1 \(consoled\) not started: virtio-console@10007000: console tcp 192\.0\.2\.1:4321: listen EADDRNOTAVAIL: address not available 192\.0\.2\.1:4321$/],
      [{ unix: missing }, new RegExp(`^zone 1 virtio-console@10007000: console unix ${missing}: folder ${dirname(missing)} does not exist$`)],
    ];
    for (const [endpoint, message] of cases) {
      const { zone0, zone1, virtio } = setup(endpoint);
      const before = fds();
      const error = await launch({ board: 'qemu-virt-riscv64', zones: [zone0, zone1], virtio, gdbBasePort: 0, output: () => {}, log: () => {} }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain('\n');
      expect(fds()).toBe(before); // the disk image, the gdb stubs and sockets are closed again
    }
  });

  it('at `hvisor zone start`: a zone whose console port was taken while it was down is refused with the device and endpoint, zone0 runs on; the start succeeds once the port is free', async () => {
    const { port, zone1, control } = await onFreePort(async (port) => {
      const { dir, zone0, zone1, virtio } = setup({ tcp: port });
      const control = { path: join(dir, 'control.sock') };
      instance = await launch({ board: 'qemu-virt-riscv64', zones: [zone0, zone1], virtio, control, gdbBasePort: false, output: () => {}, log: () => {} });
      return { port, zone1, control };
    });
    const hv = instance!.hypervisor;
    await zoneShutdown(control, 1);
    await hv.released();
    busy = await occupy(port);
    await expect(zoneStart(control, zone1)).rejects.toThrow(
      `zone 1 (consoled) not started: virtio-console@10007000: console tcp 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`,
    );
    expect((await zoneList(control)).zones.map((z) => [z.id, z.state])).toEqual([[0, 'running']]);
    const counted = hv.machine.physical.read(ZONE0_COUNTER, 8)!;
    // (a zone may sit a few rounds out to pay back host time: rounds until it has run again)
    for (let i = 0; i < 1000 && hv.machine.physical.read(ZONE0_COUNTER, 8)! === counted; i++) hv.scheduler.runRound();
    expect(hv.machine.physical.read(ZONE0_COUNTER, 8)!).toBeGreaterThan(counted);

    await new Promise<void>((r) => busy!.close(() => r()));
    busy = undefined;
    const started = await zoneStart(control, zone1);
    expect(started.zones.map((z) => [z.id, z.state])).toEqual([[0, 'running'], [1, 'running']]);
  });
});
