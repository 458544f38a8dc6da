/**
 * GICv3 Interrupt Translation Service (arm,gic-v3-its) for one zone, as Linux's irq-gic-v3-its
 * drives it: a command queue in guest memory (GITS_CBASER / CWRITER / CREADR) processed at once
 * when CWRITER moves, and GITS_TRANSLATER, where a PCI function's MSI (DeviceID = its requester
 * id, EventID = the data) becomes an LPI pending on the vCPU its collection names.
 *
 * Device, event and collection mappings live inside the model: every GITS_BASER reads as
 * unimplemented (Linux then allocates no tables), GITS_TYPER.HCC holds one collection per vCPU, and
 * RDbase is the redistributor's processor number (PTA = 0). Commands: MAPD, MAPC, MAPTI, MAPI,
 * MOVI, DISCARD, INV, INVALL, INT, CLEAR, SYNC, MOVALL; others are skipped. A command naming an
 * unmapped device, event or collection, or MAPD of a device that is not the zone's (`ownsDevice`),
 * does nothing (and is counted in `commandErrors`). MSIs arrive with their requester id through
 * `message` (MsiDoorbell: the zone's MSI router found the ITS frame at the write's address).
 */
import type { AccessSize, MmioDevice } from '../../../machine/mmio-device.js';
import type { Bdf } from '../../pci/bdf.js';
import type { MsiController, MsiDoorbell } from '../../pci/msi.js';
import type { Gicv3 } from './gicv3.js';
import type { GuestMemory } from './gicv3.js';
import { FIRST_LPI } from './lpis.js';

export const ITS_TRANSLATER = 0x10040;
const CMD_SIZE = 32;
const DEVICE_BITS = 16;
const EVENT_BITS = 16;

const enum Cmd {
  MOVI = 0x01,
  INT = 0x03,
  CLEAR = 0x04,
  SYNC = 0x05,
  MAPD = 0x08,
  MAPC = 0x09,
  MAPTI = 0x0a,
  MAPI = 0x0b,
  INV = 0x0c,
  INVALL = 0x0d,
  MOVALL = 0x0e,
  DISCARD = 0x0f,
}

interface Mapping {
  lpi: number;
  icid: number;
}

export interface Gicv3ItsOptions {
  readonly gic: Gicv3;
  /** The zone's guest-physical memory, where the command queue lives. */
  readonly memory: GuestMemory;
  /** Guest-physical base of the ITS frame (for MSIs arriving through `signal`). */
  readonly base?: number;
  /**
   * The DeviceIDs (requester ids) of the zone's own functions: MAPD of any other is refused and
   * an MSI tagged with one is dropped. Default: every DeviceID the ITS can hold.
   */
  readonly ownsDevice?: (deviceId: number) => boolean;
}

export class Gicv3Its implements MmioDevice, MsiController, MsiDoorbell {
  readonly name = 'gicv3-its';
  private enabled = false;
  private cbaserLo = 0;
  private cbaserHi = 0;
  private cwriter = 0;
  private creadr = 0;
  private readonly devices = new Map<number, Map<number, Mapping>>();
  /** Collection id → vCPU, -1 unmapped. */
  private readonly collections: Int32Array;
  /** Commands that named something unmapped or out of range. */
  commandErrors = 0;
  /** MSIs that named no mapped device/event. */
  droppedMsis = 0;

  constructor(private readonly options: Gicv3ItsOptions) {
    this.collections = new Int32Array(options.gic.core.vcpus).fill(-1);
  }

  reset(): void {
    this.enabled = false;
    this.cbaserLo = this.cbaserHi = this.cwriter = this.creadr = 0;
    this.devices.clear();
    this.collections.fill(-1);
    this.commandErrors = this.droppedMsis = 0;
  }

  read(offset: number, size: AccessSize): number {
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    if (size !== 4 || offset & 3) return 0;
    const vcpus = this.options.gic.core.vcpus;
    switch (offset) {
      case 0x0000:
        // Enabled; Quiescent whenever idle (commands complete synchronously).
        return ((this.enabled ? 1 : 0) | (1 << 31)) >>> 0;
      case 0x0004:
        return 0x0000043b;
      case 0x0008:
        // Physical, ITT entry size 8, EventID bits, DeviceID bits, PTA = 0.
        return (1 | (7 << 4) | ((EVENT_BITS - 1) << 8) | ((DEVICE_BITS - 1) << 13)) >>> 0;
      case 0x000c:
        return vcpus & 0xff; // HCC: collections held in the ITS
      case 0x0080:
        return this.cbaserLo;
      case 0x0084:
        return this.cbaserHi;
      case 0x0088:
        return this.cwriter;
      case 0x0090:
        return this.creadr;
      case 0xffe8:
        return 0x3b; // PIDR2: GICv3
    }
    return 0; // GITS_BASER<n>: type 0, unimplemented
  }

  write(offset: number, size: AccessSize, value: number): void {
    const v = value >>> 0;
    if (offset === ITS_TRANSLATER && (size === 4 || size === 2)) return; // needs the requester id: use `signal`
    if (size !== 4 || offset & 3) return;
    switch (offset) {
      case 0x0000:
        this.enabled = (v & 1) === 1;
        if (this.enabled) this.process();
        return;
      case 0x0080:
        if (this.enabled) return;
        this.cbaserLo = (v & 0xfffffcff) >>> 0; // Size, Shareability (Linux checks it reads back) and the address
        this.creadr = 0;
        return;
      case 0x0084:
        if (this.enabled) return;
        this.cbaserHi = v;
        this.creadr = 0;
        return;
      case 0x0088:
        this.cwriter = v & 0xfffe0;
        this.process();
        return;
    }
  }

  /** A PCI function's MSI: ours when aimed at GITS_TRANSLATER. */
  signal(requester: Bdf, address: number, data: number): void {
    const base = this.options.base;
    if (base === undefined || address !== base + ITS_TRANSLATER) return;
    this.translate(requester, data >>> 0);
  }

  /** An MSI write landing in the ITS frame (the zone's MSI router found it there). */
  message(requester: Bdf, offset: number, data: number): void {
    if (offset === ITS_TRANSLATER) this.translate(requester, data >>> 0);
    else this.droppedMsis++;
  }

  /** DeviceID / EventID → LPI pending on the collection's vCPU. */
  translate(deviceId: number, eventId: number): boolean {
    const m = this.enabled && this.owns(deviceId) ? this.devices.get(deviceId)?.get(eventId) : undefined;
    const cpu = m === undefined ? -1 : this.collections[m.icid] ?? -1;
    if (m === undefined || cpu < 0) {
      this.droppedMsis++;
      return false;
    }
    const core = this.options.gic.core;
    core.lpis!.setPending(cpu, m.lpi);
    core.update(cpu);
    return true;
  }

  private owns(deviceId: number): boolean {
    return this.options.ownsDevice?.(deviceId) ?? true;
  }

  private get queueBytes(): number {
    return ((this.cbaserLo & 0xff) + 1) * 4096;
  }

  private get queueBase(): number {
    return (this.cbaserHi & 0xfffff) * 2 ** 32 + (this.cbaserLo & 0xfffff000);
  }

  /** Runs every command between CREADR and CWRITER. */
  private process(): void {
    if (!this.enabled || !(this.cbaserHi & 0x80000000)) return;
    const size = this.queueBytes;
    let guard = size / CMD_SIZE;
    while (this.creadr !== this.cwriter && guard-- > 0) {
      if (this.creadr >= size) {
        this.creadr = 0;
        continue;
      }
      this.execute(this.queueBase + this.creadr);
      this.creadr = (this.creadr + CMD_SIZE) % size;
    }
  }

  private execute(at: number): void {
    const mem = this.options.memory;
    const d0 = mem.read(at, 8);
    const d1 = mem.read(at + 8, 8);
    const d2 = mem.read(at + 16, 8);
    const d3 = mem.read(at + 24, 8);
    if (d0 === undefined || d1 === undefined || d2 === undefined || d3 === undefined) {
      this.commandErrors++;
      return;
    }
    const cmd = Number(d0 & 0xffn);
    const deviceId = Number(d0 >> 32n);
    const eventId = Number(d1 & 0xffffffffn);
    const icid = Number(d2 & 0xffffn);
    const gic = this.options.gic;
    const lpis = gic.core.lpis!;
    const event = (): Mapping | undefined => this.devices.get(deviceId)?.get(eventId);
    switch (cmd) {
      case Cmd.MAPD: {
        const valid = (d2 >> 63n) & 1n;
        if (!valid) {
          for (const m of this.devices.get(deviceId)?.values() ?? []) lpis.clearPending(m.lpi);
          this.devices.delete(deviceId);
        } else if (deviceId < 2 ** DEVICE_BITS && this.owns(deviceId)) {
          this.devices.set(deviceId, new Map());
        } else {
          this.commandErrors++;
        }
        break;
      }
      case Cmd.MAPC: {
        const valid = (d2 >> 63n) & 1n;
        const target = Number((d2 >> 16n) & 0x7ffffffffn);
        if (icid >= this.collections.length || (valid && target >= gic.core.vcpus)) {
          this.commandErrors++;
        } else {
          this.collections[icid] = valid ? target : -1;
        }
        break;
      }
      case Cmd.MAPTI:
      case Cmd.MAPI: {
        const lpi = cmd === Cmd.MAPI ? eventId : Number(d1 >> 32n);
        const dev = this.devices.get(deviceId);
        if (dev === undefined || eventId >= 2 ** EVENT_BITS || !lpis.has(lpi) || icid >= this.collections.length) {
          this.commandErrors++;
        } else {
          dev.set(eventId, { lpi, icid });
          gic.refreshLpiConfig(Math.max(this.collections[icid]!, 0), lpi);
        }
        break;
      }
      case Cmd.MOVI: {
        const m = event();
        if (m === undefined || icid >= this.collections.length) {
          this.commandErrors++;
        } else {
          m.icid = icid;
          const cpu = this.collections[icid]!;
          if (cpu >= 0) lpis.move(m.lpi, cpu);
        }
        break;
      }
      case Cmd.DISCARD: {
        const m = event();
        if (m === undefined) this.commandErrors++;
        else {
          lpis.clearPending(m.lpi);
          this.devices.get(deviceId)!.delete(eventId);
        }
        break;
      }
      case Cmd.INV: {
        const m = event();
        if (m === undefined) this.commandErrors++;
        else gic.refreshLpiConfig(Math.max(this.collections[m.icid]!, 0), m.lpi);
        break;
      }
      case Cmd.INVALL: {
        const cpu = icid < this.collections.length ? this.collections[icid]! : -1;
        if (cpu < 0) this.commandErrors++;
        else gic.refreshAllLpiConfig(cpu);
        break;
      }
      case Cmd.INT: {
        const m = event();
        const cpu = m === undefined ? -1 : this.collections[m.icid]!;
        if (m === undefined || cpu < 0) this.commandErrors++;
        else lpis.setPending(cpu, m.lpi);
        break;
      }
      case Cmd.CLEAR: {
        const m = event();
        if (m === undefined) this.commandErrors++;
        else lpis.clearPending(m.lpi);
        break;
      }
      case Cmd.MOVALL: {
        const from = Number((d2 >> 16n) & 0x7ffffffffn);
        const to = Number((d3 >> 16n) & 0x7ffffffffn);
        if (from >= gic.core.vcpus || to >= gic.core.vcpus) this.commandErrors++;
        else
          for (let i = 0; i < lpis.count; i++) {
            const id = FIRST_LPI + i;
            if (lpis.pendingCpu(id) === from) lpis.move(id, to);
          }
        break;
      }
      case Cmd.SYNC:
        break;
      default:
        break; // VMAPP and other GICv4 commands: not offered
    }
    gic.core.updateAll();
  }
}
