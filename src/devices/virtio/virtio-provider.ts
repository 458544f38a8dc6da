import type { OutsideInputs } from '../outside-input.js';
import type { AddressSpace } from '../../machine/address-space.js';
import type { IrqLine } from '../../machine/irq-line.js';
import { RoutedIrq } from '../../machine/routed-irq.js';
import type { ZoneVirtioConfig } from '../../config/virtio-config.js';
import type { VirtioMmioDevice } from './virtio-mmio.js';
import { buildVirtioDevice, type BuiltVirtioDevice } from './virtio-zone-devices.js';
import { VirtualSwitch } from './virtual-switch.js';
import { HvisorError } from '../../util/hvisor-error.js';
import { guestMemory } from '../../machine/guest-memory.js';

/** A device of a zone could not be built (its image cannot be opened, its socket path is wrong): names zone and device. */
export class VirtioDeviceError extends HvisorError {}

/** One zone-owned virtio-mmio window, shaped as the hypervisor's stage-2 map takes device windows. */
export interface VirtioZoneWindow {
  readonly base: number;
  readonly size: number;
  readonly device: VirtioMmioDevice;
  readonly name: string;
  /** The device's interrupt: connect it to the zone's interrupt controller input `irqLine.number`. */
  readonly irqLine: RoutedIrq;
  /** Only for devices with a host endpoint: resolves once it listens, rejects naming it. */
  readonly ready?: Promise<void>;
  /** The device itself: what its kicks do is bounded per slice of the zone (SLICE_BYTES). */
  readonly slicedWork: VirtioMmioDevice;
  readonly built: BuiltVirtioDevice;
}

/**
 * The virtio devices of a board, from a parsed virtio_cfg.json: `provide` builds a zone's devices
 * when the zone's stage-2 space exists (so their DMA is that space), one board-wide switch set
 * joins the zones' NICs, `release` takes a departed zone's devices back (reset, unplugged, files
 * and sockets closed) and `close` releases everything.
 */
export class BoardVirtio {
  readonly switches = new Map<string, VirtualSwitch>();
  /** Each zone's outside input sources (record/replay sits behind them). */
  inputs: ((zoneId: number) => OutsideInputs) | undefined;
  private readonly byZone = new Map<number, VirtioZoneWindow[]>();

  constructor(
    private readonly zones: readonly ZoneVirtioConfig[],
    /** Relative image paths resolve against the config file's folder. */
    private readonly baseDir: string,
  ) {}

  /** The windows and interrupts of the devices zone `zoneId` is served, before they are built. */
  slots(zoneId: number): { base: number; size: number; irq: number }[] {
    return (this.zones.find((z) => z.zoneId === zoneId)?.devices ?? []).map((d) => ({ base: d.addr, size: d.len, irq: d.irq }));
  }

  /** Builds (once per call) the devices served to zone `zoneId`, DMA-ing into `space`. */
  provide(zoneId: number, space: AddressSpace): VirtioZoneWindow[] {
    const zone = this.zones.find((z) => z.zoneId === zoneId);
    if (zone === undefined) return [];
    const lines = new Map<number, RoutedIrq>();
    const high = new Map<number, number>();
    const env = {
      memory: guestMemory(space),
      irq: (n: number): IrqLine => {
        // Devices sharing an interrupt number drive one line, high while any of them is (wired OR).
        if (!lines.has(n)) lines.set(n, new RoutedIrq(`virtio irq ${n}`, n));
        const line = lines.get(n)!;
        let mine = false;
        return {
          set(level: boolean) {
            if (level === mine) return;
            mine = level;
            const before = high.get(n) ?? 0;
            const count = before + (level ? 1 : -1);
            high.set(n, count);
            if (before > 0 !== count > 0) line.set(count > 0);
          },
          pulse: () => line.pulse(),
        };
      },
      baseDir: this.baseDir,
      switches: this.switches,
      ...(this.inputs !== undefined && { inputs: this.inputs(zoneId) }),
    };
    // Registered as they are built: a device that cannot be built (a missing image) leaves the
    // ones before it to `release`, which the hypervisor calls when the zone does not start.
    const windows: VirtioZoneWindow[] = [];
    const owned = this.byZone.get(zoneId) ?? [];
    this.byZone.set(zoneId, owned);
    for (const spec of zone.devices) {
      const name = `virtio-${spec.type}@${spec.addr.toString(16)}`;
      let built: BuiltVirtioDevice;
      try {
        built = buildVirtioDevice(spec, env);
      } catch (e) {
        throw new VirtioDeviceError(`zone ${zoneId} ${name}: ${(e as Error).message}`);
      }
      const device = built.device;
      const w: VirtioZoneWindow = {
        base: spec.addr, size: spec.len, device, name, irqLine: lines.get(spec.irq)!, built,
        slicedWork: device,
        ...(built.opensEndpoint && { ready: built.ready }),
      };
      windows.push(w);
      owned.push(w);
    }
    return windows;
  }

  /** Every device built so far, for `monitor virtio`. */
  get windows(): readonly VirtioZoneWindow[] {
    return [...this.byZone.values()].flat();
  }

  /** Resolves when every socket and web server listens; rejects with the first failure. */
  async ready(): Promise<void> {
    await Promise.all(this.windows.map((w) => w.built.ready));
  }

  /**
   * Zone `zoneId` is gone: its devices are reset (no ring is used again, so nothing is written into
   * RAM that may go to another zone), unplugged from their switch, and their image files and sockets
   * closed. All of that is done when this returns; the promise waits for the sockets' close callbacks.
   */
  release(zoneId: number): Promise<void> {
    const windows = this.byZone.get(zoneId) ?? [];
    this.byZone.delete(zoneId);
    for (const w of windows) w.device.reset();
    return Promise.all(windows.map((w) => w.built.close())).then(() => {});
  }

  async close(): Promise<void> {
    await Promise.all([...this.byZone.keys()].map((id) => this.release(id)));
  }
}
