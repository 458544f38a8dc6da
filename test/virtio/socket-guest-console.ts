/**
 * A zone's virtio-console served on a TCP port, as the Linux-in-a-zone tests reach it: finds the port
 * the device bound (configs ask for port 0), connects with node:net and wraps the socket in a
 * GuestConsole (waitFor/run). Lives here because it knows the virtio provider's window shape.
 */
import { connect, type Socket } from 'node:net';
import type { Zone } from '../../src/hypervisor/zone/zone.js';
import type { VirtioZoneWindow } from '../../src/devices/virtio/virtio-provider.js';
import { GuestConsole } from '../helpers/guest-console.js';

/** The virtio window served at guest-physical `base` in `zone`, with what the provider built behind it. */
export function virtioWindowAt(zone: Zone, base: number): VirtioZoneWindow {
  const w = (zone.virtioWindows as readonly VirtioZoneWindow[]).find((x) => x.base === base);
  if (w === undefined) throw new Error(`zone ${zone.id} serves no virtio device at 0x${base.toString(16)}`);
  return w;
}

export interface SocketGuestConsole {
  readonly console: GuestConsole;
  readonly socket: Socket;
  readonly port: number;
}

/** Connects to the TCP virtio-console at `base` of `zone` (after it listens). */
export async function connectVirtioConsole(zone: Zone, base: number, name = 'hvc0'): Promise<SocketGuestConsole> {
  const w = virtioWindowAt(zone, base);
  await w.built.ready;
  const where = /^tcp [^ ]+:(\d+)$/.exec(w.built.describe());
  if (where === null) throw new Error(`virtio-console at 0x${base.toString(16)} is not on TCP: ${w.built.describe()}`);
  const port = Number(where[1]);
  const socket = connect(port, '127.0.0.1');
  const guest = new GuestConsole(name, (b) => socket.write(b));
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => guest.append(text));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { console: guest, socket, port };
}
