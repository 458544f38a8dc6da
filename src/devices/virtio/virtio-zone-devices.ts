import { isAbsolute, resolve } from 'node:path';
import type { IrqLine } from '../../machine/irq-line.js';
import { FileBlockImage } from './block-image.js';
import type { ConsoleEndpoint } from './console-endpoint.js';
import { FramebufferServer } from './framebuffer-server.js';
import { SocketConsole } from './socket-console.js';
import { TerminalConsole } from './terminal-console.js';
import { UdpNetLink } from './udp-net-link.js';
import type { VirtioBackend } from './virtio-backend.js';
import { VirtioBlkBackend } from './virtio-blk-backend.js';
import type { VirtioDeviceSpec } from '../../config/virtio-config.js';
import { VirtioConsoleBackend } from './virtio-console-backend.js';
import { VirtioGpuBackend } from './virtio-gpu-backend.js';
import { VirtioMmioDevice } from './virtio-mmio.js';
import { VirtioNetBackend } from './virtio-net-backend.js';
import type { VirtqueueMemory } from './virtqueue.js';
import { VirtualSwitch } from './virtual-switch.js';
import { guestMemory } from '../../machine/guest-memory.js';
import { directInputs, type OutsideInputs } from '../outside-input.js';

/** What a zone gives its virtio devices. */
export interface VirtioZoneEnv {
  /** The zone's RAM as devices reach it (its stage-2 view: `guestMemory(space)`). */
  readonly memory: VirtqueueMemory;
  /** The zone's interrupt line for a config `irq` number. */
  irq(number: number): IrqLine;
  /** Relative image paths are resolved against this (the config file's folder). */
  readonly baseDir: string;
  /** The board's switches by name, shared by every zone of the board. */
  readonly switches: Map<string, VirtualSwitch>;
  /** Where console bytes and network frames from outside enter the zone (record/replay; default: straight in). */
  readonly inputs?: OutsideInputs;
}

/** One built device: the MMIO model to map at `spec.addr`, and what it opened on the host. */
export interface BuiltVirtioDevice {
  readonly spec: VirtioDeviceSpec;
  readonly device: VirtioMmioDevice;
  readonly backend: VirtioBackend;
  /** Resolves when its sockets / servers listen; rejects naming the endpoint (never unhandled). */
  readonly ready: Promise<void>;
  /** Whether it opens a host endpoint (a socket, a web page) whose set-up can fail after it is built. */
  readonly opensEndpoint: boolean;
  /** Where the user reaches it, e.g. "tcp 127.0.0.1:4321", "http://127.0.0.1:8080/" (final once ready). */
  describe(): string;
  /** Frees what it holds on the host: image file, sockets, its switch port. What can go at once goes before this returns. */
  close(): Promise<void>;
}

export function buildVirtioDevice(spec: VirtioDeviceSpec, env: VirtioZoneEnv): BuiltVirtioDevice {
  const build = (backend: VirtioBackend, describe: string | (() => string), endpoint: Promise<void> | undefined, close: () => Promise<void>): BuiltVirtioDevice => {
    // A socket that cannot listen rejects later, perhaps with nobody waiting yet: never an unhandled rejection.
    endpoint?.catch(() => {});
    return {
      spec, backend, close,
      ready: endpoint ?? Promise.resolve(),
      opensEndpoint: endpoint !== undefined,
      describe: typeof describe === 'string' ? () => describe : describe,
      device: new VirtioMmioDevice(backend, env.memory, env.irq(spec.irq)),
    };
  };
  const inputs = env.inputs ?? directInputs;
  switch (spec.type) {
    case 'blk': {
      const path = isAbsolute(spec.img) ? spec.img : resolve(env.baseDir, spec.img);
      const image = new FileBlockImage(path, spec.readOnly);
      return build(new VirtioBlkBackend(image, spec.serial), `${path}${spec.readOnly ? ' (read-only)' : ''}`, undefined, async () => image.close());
    }
    case 'console': {
      const e = spec.endpoint;
      const endpoint: ConsoleEndpoint & { listening?: Promise<void> } =
        e.kind === 'tcp' ? SocketConsole.tcp(e.port, e.host) : e.kind === 'unix' ? SocketConsole.unix(e.path) : new TerminalConsole();
      const fed: ConsoleEndpoint = {
        get description() {
          return endpoint.description;
        },
        write: (bytes) => endpoint.write(bytes),
        attach: (sink) => endpoint.attach(inputs.channel(`virtio-console@${spec.addr.toString(16)}`, sink)),
        close: () => endpoint.close(),
      };
      return build(new VirtioConsoleBackend(fed), () => endpoint.description, endpoint.listening, () => endpoint.close());
    }
    case 'net': {
      if (spec.link.kind === 'switch') {
        const name = spec.link.name;
        let sw = env.switches.get(name);
        if (sw === undefined) env.switches.set(name, (sw = new VirtualSwitch()));
        const nic = sw.nic(`irq${spec.irq}@0x${spec.addr.toString(16)}`, spec.mac, (deliver) => inputs.channel(`virtio-net@${spec.addr.toString(16)}`, deliver));
        return build(nic, `switch ${name}`, undefined, async () => sw.unplug(nic));
      }
      const link = new UdpNetLink(spec.link.local, spec.link.peer);
      const nic = new VirtioNetBackend(spec.mac, (frame) => link.send(frame));
      link.onFrame(inputs.channel(`virtio-net@${spec.addr.toString(16)}`, (frame) => nic.receive(frame)));
      const { local, peer } = spec.link;
      return build(nic, `udp ${local.address}:${local.port} -> ${peer.address}:${peer.port}`, link.ready, () => link.close());
    }
    case 'gpu': {
      const gpu = new VirtioGpuBackend({ displays: [{ width: spec.width, height: spec.height }] });
      if (spec.webPort === undefined) return build(gpu, `${spec.width}x${spec.height}`, undefined, async () => {});
      const server = new FramebufferServer(gpu, spec.webPort);
      return build(gpu, () => `${spec.width}x${spec.height} on http://127.0.0.1:${server.port}/`, server.listening, () => server.close());
    }
  }
}

/** The device-tree node a zone needs for a slot, as QEMU's virt boards write them. */
export interface VirtioMmioNode {
  readonly name: string;
  readonly compatible: 'virtio,mmio';
  readonly reg: readonly [number, number];
  /** GIC: <SPI-type 0, irq-32, edge-rising 1>; PLIC: <source>. */
  readonly interrupts: readonly number[];
  readonly dmaCoherent: boolean;
}

export function virtioMmioNode(spec: Pick<VirtioDeviceSpec, 'addr' | 'len' | 'irq'>, controller: 'gic' | 'plic'): VirtioMmioNode {
  if (controller === 'gic' && spec.irq < 32) throw new RangeError(`virtio-mmio at 0x${spec.addr.toString(16)}: irq ${spec.irq} is not an SPI (GIC numbers start at 32)`);
  return {
    name: `virtio_mmio@${spec.addr.toString(16)}`,
    compatible: 'virtio,mmio',
    reg: [spec.addr, spec.len],
    interrupts: controller === 'gic' ? [0, spec.irq - 32, 1] : [spec.irq],
    dmaCoherent: controller === 'gic',
  };
}
