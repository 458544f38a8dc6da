import type { AddressSpace } from '../../machine/address-space.js';
import type { IrqLine } from '../../machine/irq-line.js';
import { RoutedIrq } from '../../machine/routed-irq.js';
import { zoneMemory } from './guest-memory.js';
import type { ZoneVirtioConfig } from './virtio-config.js';
import type { VirtioMmioDevice } from './virtio-mmio.js';
import { buildVirtioDevice, type BuiltVirtioDevice } from './virtio-zone-devices.js';
import { VirtualSwitch } from './virtual-switch.js';

/** One zone-owned virtio-mmio window, shaped as the hypervisor's stage-2 map takes device windows. */
export interface VirtioZoneWindow {
  readonly base: number;
  readonly size: number;
  readonly device: VirtioMmioDevice;
  readonly name: string;
  /** The device's interrupt: connect it to the zone's interrupt controller input `irqLine.number`. */
  readonly irqLine: RoutedIrq;
  readonly built: BuiltVirtioDevice;
}

/**
 * The virtio devices of a board, from a parsed virtio_cfg.json: `provide` builds a zone's devices
 * when the zone's stage-2 space exists (so their DMA is that space), one board-wide switch set
 * joins the zones' NICs, and `close` releases image files, sockets and servers.
 */
export class BoardVirtio {
  readonly switches = new Map<string, VirtualSwitch>();
  private readonly built: VirtioZoneWindow[] = [];

  constructor(
    private readonly zones: readonly ZoneVirtioConfig[],
    /** Relative image paths resolve against the config file's folder. */
    private readonly baseDir: string,
  ) {}

  /** Builds (once per call) the devices served to zone `zoneId`, DMA-ing into `space`. */
  provide(zoneId: number, space: AddressSpace): VirtioZoneWindow[] {
    const zone = this.zones.find((z) => z.zoneId === zoneId);
    if (zone === undefined) return [];
    const lines = new Map<number, RoutedIrq>();
    const high = new Map<number, number>();
    const env = {
      memory: zoneMemory(space),
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
    };
    const windows = zone.devices.map((spec): VirtioZoneWindow => {
      const built = buildVirtioDevice(spec, env);
      return { base: spec.addr, size: spec.len, device: built.device, name: `virtio-${spec.type}@${spec.addr.toString(16)}`, irqLine: lines.get(spec.irq)!, built };
    });
    this.built.push(...windows);
    return windows;
  }

  /** Every device built so far, for `monitor virtio`. */
  get windows(): readonly VirtioZoneWindow[] {
    return this.built;
  }

  /** Resolves when every socket and web server listens; rejects with the first failure. */
  async ready(): Promise<void> {
    await Promise.all(this.built.map((w) => w.built.ready));
  }

  async close(): Promise<void> {
    await Promise.all(this.built.map((w) => w.built.close()));
    this.built.length = 0;
  }
}
