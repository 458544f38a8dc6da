import { VirtioNetBackend } from './virtio-net-backend.js';

/**
 * One port of the switch: frames in through `send`, out through the port's `deliver`. Delivery is
 * synchronous and the frame's bytes are valid only during the call (NICs reuse their buffers).
 */
export interface SwitchPort {
  readonly name: string;
  /** A frame entering the switch from this port. */
  send(frame: Uint8Array): void;
  readonly stats: { received: number; delivered: number; dropped: number };
}

const ETH_HEADER = 14;
const MAX_FRAME = 65535;
/** Forgetting everything beyond this keeps a MAC-flooding guest from growing the table forever. */
const MAX_LEARNED = 4096;

/**
 * A learning Ethernet switch joining the NICs of a board's zones (and uplinks such as a UDP
 * tunnel to another instance): it learns source MACs per port, forwards known unicast to one
 * port, floods broadcast, multicast and unknown unicast to every other port. Delivery is
 * synchronous; no root, no tap device.
 */
export class VirtualSwitch {
  private readonly ports: { port: SwitchPort; deliver: (frame: Uint8Array) => void }[] = [];
  private readonly table = new Map<number, SwitchPort>();
  private readonly nicPorts = new WeakMap<VirtioNetBackend, SwitchPort>();

  attach(name: string, deliver: (frame: Uint8Array) => void): SwitchPort {
    const stats = { received: 0, delivered: 0, dropped: 0 };
    const port: SwitchPort = { name, stats, send: (frame) => this.forward(port, frame) };
    this.ports.push({ port, deliver: (frame) => {
      stats.delivered++;
      deliver(frame);
    } });
    return port;
  }

  /** A virtio-net backend plugged into a new port of this switch; `feed` sees the frames it receives first (record/replay). */
  nic(name: string, mac: readonly number[], feed: (deliver: (frame: Uint8Array) => void) => (frame: Uint8Array) => void = (d) => d): VirtioNetBackend {
    let nic: VirtioNetBackend | undefined;
    const port = this.attach(name, feed((frame) => nic!.receive(frame)));
    nic = new VirtioNetBackend(mac, (frame) => port.send(frame));
    this.nicPorts.set(nic, port);
    return nic;
  }

  /** Takes a port off the switch: nothing reaches it any more, and its learned MACs are forgotten. */
  detach(port: SwitchPort): void {
    const i = this.ports.findIndex((p) => p.port === port);
    if (i >= 0) this.ports.splice(i, 1);
    for (const [mac, p] of this.table) if (p === port) this.table.delete(mac);
  }

  /** Unplugs a NIC made by `nic` (its zone is gone). */
  unplug(nic: VirtioNetBackend): void {
    const port = this.nicPorts.get(nic);
    if (port !== undefined) this.detach(port);
    this.nicPorts.delete(nic);
  }

  get portCount(): number {
    return this.ports.length;
  }

  /** The port a MAC was last seen on (for `monitor net` and tests). */
  portOf(mac: readonly number[]): string | undefined {
    return this.table.get(macKey(mac, 0))?.name;
  }

  private forward(from: SwitchPort, frame: Uint8Array): void {
    from.stats.received++;
    if (frame.length < ETH_HEADER || frame.length > MAX_FRAME) {
      from.stats.dropped++;
      return;
    }
    const src = macKey(frame, 6);
    if ((frame[6]! & 1) === 0 && this.table.get(src) !== from) {
      if (this.table.size >= MAX_LEARNED) this.table.clear();
      this.table.set(src, from);
    }
    const dest = (frame[0]! & 1) === 0 ? this.table.get(macKey(frame, 0)) : undefined;
    if (dest === from) return; // both ends on the same port: not ours to forward
    for (const p of this.ports) {
      if (p.port === from || (dest !== undefined && p.port !== dest)) continue;
      p.deliver(frame);
    }
  }
}

function macKey(bytes: ArrayLike<number>, at: number): number {
  let k = 0;
  for (let i = 0; i < 6; i++) k = k * 256 + bytes[at + i]!;
  return k;
}
