/**
 * GICv3 Interrupt Translation Service (arm,gic-v3-its) for one zone: a command queue in guest
 * memory (GITS_CBASER / CWRITER / CREADR) processed at once when CWRITER moves, and
 * GITS_TRANSLATER, where a PCI function's MSI (DeviceID = its requester id, EventID = the data)
 * becomes an LPI pending on the vCPU its collection names.
 *
 * The mappings live where the architecture puts them, in the guest's memory: GITS_BASER0 describes
 * the Device table and GITS_BASER1 the Collection table (flat or indirect, 4/16/64 KiB pages), each
 * device's ITT is the memory MAPD names, and every lookup reads them (GITS_TYPER.HCC = 0). The
 * entry formats are implementation defined; ours are QEMU's (8-byte DTE: V, Size, ITT_addr >> 8;
 * 8-byte CTE: V, RDbase = processor number; 12-byte ITE: V, physical, INTID, ICID, doorbell 1023),
 * so a guest dumping its tables sees what it would see on QEMU virt. Commands: MAPD, MAPC, MAPTI,
 * MAPI, MOVI, DISCARD, INV, INVALL, INT, CLEAR, SYNC, MOVALL; others are skipped. A command naming
 * an unmapped device, event or collection, an id beyond its table, or MAPD of a device that is not
 * the zone's (`ownsDevice`), does nothing (and is counted in `commandErrors`), as QEMU's ITS ignores
 * it. MSIs arrive with their requester id through `message` (MsiDoorbell: the zone's MSI router
 * found the ITS frame at the write's address).
 */
import { WORD_ACCESS, type AccessSize, type MmioDevice } from '../../../machine/mmio-device.js';
import type { Bdf } from '../../../machine/bdf.js';
import type { MsiController, MsiDoorbell } from '../../pci/msi.js';
import type { Gicv3 } from './gicv3.js';
import { readGuestLE, writeGuestLE, type GuestMemory } from '../../../machine/guest-memory.js';
import { ItsTable, ItsTableType } from './its-table.js';
import { FIRST_LPI } from './lpis.js';

export const ITS_TRANSLATER = 0x10040;
const CMD_SIZE = 32;
const DEVICE_BITS = 16;
const EVENT_BITS = 16;
const COLLECTION_BITS = 16;
const DTE_SIZE = 8;
const CTE_SIZE = 8;
const ITE_SIZE = 12;
const INTID_SPURIOUS = 1023;
const GITS_BASER = 0x100;

/** GITS_TYPER: Physical, ITT_entry_size - 1, IDbits - 1, Devbits - 1 (PTA = 0, HCC = 0); CIDbits - 1 and CIL above. */
const TYPER_LO = (1 | ((ITE_SIZE - 1) << 4) | ((EVENT_BITS - 1) << 8) | ((DEVICE_BITS - 1) << 13)) >>> 0;
const TYPER_HI = (COLLECTION_BITS - 1) | (1 << 4);

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

/** A valid ITE's translation. */
interface Translation {
  lpi: number;
  icid: number;
}

/** A valid DTE: the device's ITT and how many EventIDs it holds. */
interface DeviceEntry {
  itt: number;
  events: number;
}

export interface Gicv3ItsOptions {
  readonly gic: Gicv3;
  /** The zone's guest-physical memory: command queue, Device and Collection tables, ITTs. */
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
  readonly accessRule = WORD_ACCESS;
  private enabled = false;
  private cbaserLo = 0;
  private cbaserHi = 0;
  private cwriter = 0;
  private creadr = 0;
  /** GITS_BASER0 and GITS_BASER1; BASER2..7 are unimplemented (RAZ/WI). */
  readonly deviceTable = new ItsTable(ItsTableType.Device, DTE_SIZE, DEVICE_BITS);
  readonly collectionTable = new ItsTable(ItsTableType.Collection, CTE_SIZE, COLLECTION_BITS);
  /** Commands that named something unmapped or out of range. */
  commandErrors = 0;
  /** MSIs that named no mapped device/event. */
  droppedMsis = 0;

  constructor(private readonly options: Gicv3ItsOptions) {}

  reset(): void {
    this.enabled = false;
    this.cbaserLo = this.cbaserHi = this.cwriter = this.creadr = 0;
    this.deviceTable.reset();
    this.collectionTable.reset();
    this.commandErrors = this.droppedMsis = 0;
  }

  read(offset: number, size: AccessSize): number {
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    switch (offset) {
      case 0x0000:
        // Enabled; Quiescent whenever idle (commands complete synchronously).
        return ((this.enabled ? 1 : 0) | (1 << 31)) >>> 0;
      case 0x0004:
        return 0x0000043b;
      case 0x0008:
        return TYPER_LO;
      case 0x000c:
        return TYPER_HI;
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
    const table = this.baser(offset);
    return table === undefined ? 0 : table.read(((offset >> 2) & 1) as 0 | 1);
  }

  write(offset: number, size: AccessSize, value: number): void {
    const v = value >>> 0;
    if (offset === ITS_TRANSLATER && (size === 4 || size === 2)) return; // needs the requester id: use `signal`
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
    // GITS_BASER<n> are programmed while the ITS is disabled (writes when enabled are ignored, as QEMU does).
    const table = this.baser(offset);
    if (table !== undefined && !this.enabled) table.write(((offset >> 2) & 1) as 0 | 1, v);
  }

  private baser(offset: number): ItsTable | undefined {
    if (offset >= GITS_BASER && offset < GITS_BASER + 8) return this.deviceTable;
    if (offset >= GITS_BASER + 8 && offset < GITS_BASER + 16) return this.collectionTable;
    return undefined;
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

  /** DeviceID / EventID → (Device table, ITT, Collection table) → LPI pending on the collection's vCPU. */
  translate(deviceId: number, eventId: number): boolean {
    const m = this.enabled && this.owns(deviceId) ? this.event(deviceId, eventId) : undefined;
    const cpu = m === undefined ? -1 : this.collection(m.icid);
    if (m === undefined || cpu < 0 || m.lpi === INTID_SPURIOUS) {
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

  // --- the tables in guest memory ---------------------------------------------------------------

  private device(deviceId: number): DeviceEntry | undefined {
    const at = this.deviceTable.entryAddress(deviceId, this.options.memory);
    const dte = at === undefined ? undefined : readGuestLE(this.options.memory, at, 8);
    if (dte === undefined || (dte & 1n) === 0n) return undefined;
    return { events: 2 ** (Number((dte >> 1n) & 0x1fn) + 1), itt: Number((dte >> 6n) & 0xfffffffffffn) * 256 };
  }

  private writeDevice(deviceId: number, entry: DeviceEntry | undefined): boolean {
    const at = this.deviceTable.entryAddress(deviceId, this.options.memory);
    if (at === undefined) return false;
    const dte = entry === undefined ? 0n : 1n | (BigInt(Math.log2(entry.events) - 1) << 1n) | (BigInt(entry.itt / 256) << 6n);
    return writeGuestLE(this.options.memory, at, 8, dte);
  }

  /** The ITE of (device, event), when both are mapped. */
  private event(deviceId: number, eventId: number): Translation | undefined {
    const dev = this.device(deviceId);
    if (dev === undefined || eventId >= dev.events) return undefined;
    const mem = this.options.memory;
    const at = dev.itt + eventId * ITE_SIZE;
    const lo = readGuestLE(mem, at, 4);
    const hi = readGuestLE(mem, at + 4, 4);
    if (lo === undefined || hi === undefined || (lo & 3n) !== 3n) return undefined; // valid, physical
    return { lpi: Number(lo >> 2n) & 0xffffff, icid: Number(hi & 0xffffn) };
  }

  private writeEvent(dev: DeviceEntry, eventId: number, t: Translation | undefined): boolean {
    const mem = this.options.memory;
    const at = dev.itt + eventId * ITE_SIZE;
    const lo = t === undefined ? 0 : (3 | (t.lpi << 2)) >>> 0;
    return writeGuestLE(mem, at, 4, BigInt(lo)) && writeGuestLE(mem, at + 4, 4, BigInt(t?.icid ?? 0)) && writeGuestLE(mem, at + 8, 4, t === undefined ? 0n : BigInt(INTID_SPURIOUS));
  }

  /** The vCPU collection `icid` targets, or -1 when it is not mapped. */
  private collection(icid: number): number {
    const at = this.collectionTable.entryAddress(icid, this.options.memory);
    const cte = at === undefined ? undefined : readGuestLE(this.options.memory, at, 8);
    if (cte === undefined || (cte & 1n) === 0n) return -1;
    const cpu = Number((cte >> 1n) & 0xffffn);
    return cpu < this.options.gic.core.vcpus ? cpu : -1;
  }

  // --- the command queue -------------------------------------------------------------------------

  private get queueBytes(): number {
    return ((this.cbaserLo & 0xff) + 1) * 4096;
  }

  private get queueBase(): number {
    return (this.cbaserHi & 0xfffff) * 2 ** 32 + ((this.cbaserLo & 0xfffff000) >>> 0);
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
      if (!this.execute(this.queueBase + this.creadr)) this.commandErrors++;
      this.creadr = (this.creadr + CMD_SIZE) % size;
    }
  }

  /** One command; false when it named something unmapped or out of range (then it did nothing). */
  private execute(at: number): boolean {
    const mem = this.options.memory;
    const d0 = readGuestLE(mem, at, 8);
    const d1 = readGuestLE(mem, at + 8, 8);
    const d2 = readGuestLE(mem, at + 16, 8);
    const d3 = readGuestLE(mem, at + 24, 8);
    if (d0 === undefined || d1 === undefined || d2 === undefined || d3 === undefined) return false;
    const cmd = Number(d0 & 0xffn);
    const deviceId = Number(d0 >> 32n);
    const eventId = Number(d1 & 0xffffffffn);
    const icid = Number(d2 & 0xffffn);
    const gic = this.options.gic;
    const vcpus = gic.core.vcpus;
    const lpis = gic.core.lpis!;
    let ok = true;
    switch (cmd) {
      case Cmd.MAPD: {
        const valid = (d2 >> 63n) & 1n;
        const eventBits = Number(d1 & 0x1fn) + 1;
        const itt = Number((d2 >> 8n) & 0xfffffffffffn) * 256;
        if (!this.owns(deviceId) || eventBits > EVENT_BITS) ok = false;
        else ok = this.writeDevice(deviceId, valid ? { itt, events: 2 ** eventBits } : undefined);
        break;
      }
      case Cmd.MAPC: {
        const valid = (d2 >> 63n) & 1n;
        const target = Number((d2 >> 16n) & 0x7ffffffffn);
        const entry = this.collectionTable.entryAddress(icid, mem);
        if (entry === undefined || (valid && target >= vcpus)) ok = false;
        else ok = writeGuestLE(mem, entry, 8, valid ? 1n | (BigInt(target) << 1n) : 0n);
        break;
      }
      case Cmd.MAPTI:
      case Cmd.MAPI: {
        const lpi = cmd === Cmd.MAPI ? eventId : Number(d1 >> 32n);
        const dev = this.device(deviceId);
        if (dev === undefined || eventId >= dev.events || (!lpis.has(lpi) && lpi !== INTID_SPURIOUS) || this.collectionTable.entryAddress(icid, mem) === undefined) {
          ok = false;
        } else {
          ok = this.writeEvent(dev, eventId, { lpi, icid });
          if (lpis.has(lpi)) gic.refreshLpiConfig(Math.max(this.collection(icid), 0), lpi);
        }
        break;
      }
      case Cmd.MOVI: {
        const dev = this.device(deviceId);
        const m = dev === undefined ? undefined : this.event(deviceId, eventId);
        if (dev === undefined || m === undefined || this.collectionTable.entryAddress(icid, mem) === undefined) {
          ok = false;
        } else {
          ok = this.writeEvent(dev, eventId, { lpi: m.lpi, icid });
          const cpu = this.collection(icid);
          if (cpu >= 0 && lpis.pendingCpu(m.lpi) >= 0) lpis.move(m.lpi, cpu);
        }
        break;
      }
      case Cmd.DISCARD: {
        const dev = this.device(deviceId);
        const m = dev === undefined ? undefined : this.event(deviceId, eventId);
        if (dev === undefined || m === undefined) ok = false;
        else {
          lpis.clearPending(m.lpi);
          ok = this.writeEvent(dev, eventId, undefined);
        }
        break;
      }
      case Cmd.INV: {
        const m = this.event(deviceId, eventId);
        if (m === undefined) ok = false;
        else if (lpis.has(m.lpi)) gic.refreshLpiConfig(Math.max(this.collection(m.icid), 0), m.lpi);
        break;
      }
      case Cmd.INVALL: {
        const cpu = this.collection(icid);
        if (cpu < 0) ok = false;
        else gic.refreshAllLpiConfig(cpu);
        break;
      }
      case Cmd.INT: {
        const m = this.event(deviceId, eventId);
        const cpu = m === undefined ? -1 : this.collection(m.icid);
        if (m === undefined || cpu < 0) ok = false;
        else lpis.setPending(cpu, m.lpi);
        break;
      }
      case Cmd.CLEAR: {
        const m = this.event(deviceId, eventId);
        if (m === undefined) ok = false;
        else lpis.clearPending(m.lpi);
        break;
      }
      case Cmd.MOVALL: {
        const from = Number((d2 >> 16n) & 0x7ffffffffn);
        const to = Number((d3 >> 16n) & 0x7ffffffffn);
        if (from >= vcpus || to >= vcpus) ok = false;
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
    return ok;
  }
}
