import type { AccessSize } from '../../machine/mmio-device.js';
import type { BlockImage } from '../virtio/block-image.js';
import { addPciExpressEndpoint, addPowerManagement } from './capabilities.js';
import { PciFunction } from './pci-function.js';

/** Controller register offsets (NVM Express Base 1.4 §3.1). */
const Reg = {
  CapLo: 0x00, CapHi: 0x04, Vs: 0x08, Intms: 0x0c, Intmc: 0x10, Cc: 0x14, Csts: 0x1c,
  Nssr: 0x20, Aqa: 0x24, AsqLo: 0x28, AsqHi: 0x2c, AcqLo: 0x30, AcqHi: 0x34, Doorbells: 0x1000,
} as const;

const BAR0_SIZE = 0x4000;
/** MSI-X table and PBA share BAR 0 with the registers, where QEMU's NVMe puts them. */
const MSIX_TABLE = 0x2000;
const MSIX_PBA = 0x3000;
/** I/O queue pairs offered (Linux asks for one per CPU and takes what it gets). */
const MAX_IO_QUEUES = 8;
const MQES = 1023;
const SECTOR = 512;
/** 2^MDTS pages of 4 KiB per command. */
const MDTS = 5;

/** Status codes (generic command status unless noted). */
const Sc = {
  Success: 0x00, InvalidOpcode: 0x01, InvalidField: 0x02, DataTransferError: 0x04,
  InvalidNamespace: 0x0b, LbaOutOfRange: 0x80,
  // command specific (SCT 1)
  InvalidCq: 0x100, InvalidQid: 0x101, InvalidQsize: 0x102, InvalidVector: 0x108,
} as const;

interface SubmissionQueue { base: number; size: number; head: number; tail: number; cqid: number }
interface CompletionQueue { base: number; size: number; head: number; tail: number; phase: number; ien: boolean; vector: number }

export interface NvmeOptions {
  readonly serial?: string;
  readonly model?: string;
}

/**
 * An NVMe 1.4 controller with one namespace on a disk image: controller registers, admin queue,
 * Identify controller/namespace, Set/Get Features (number of queues, write cache), create/delete
 * I/O queues, and Read/Write/Flush with PRP lists. Interrupts by MSI-X (one vector per
 * completion queue) or INTx. Commands complete synchronously when their doorbell is rung.
 */
export class NvmeController extends PciFunction {
  readonly name = 'nvme';
  private readonly sectors: number;
  private cc = 0;
  private csts = 0;
  private aqa = 0;
  private asq = 0;
  private acq = 0;
  private intms = 0;
  private sqs: (SubmissionQueue | undefined)[] = [];
  private cqs: (CompletionQueue | undefined)[] = [];
  private ioQueuesGranted = 0;
  private writeCache = true;
  private readonly cmd = new Uint8Array(64);
  private readonly cmd32 = new Uint32Array(this.cmd.buffer);
  private readonly cqe = new Uint8Array(16);
  private readonly cqe32 = new Uint32Array(this.cqe.buffer);
  private readonly serial: string;
  private readonly model: string;
  /** Commands completed since reset (for the monitor and tests). */
  completed = 0;

  constructor(private readonly image: BlockImage, opts: NvmeOptions = {}) {
    super(
      { vendorId: 0x1b36, deviceId: 0x0010, classCode: 0x010802, revision: 2, subsystemVendorId: 0x1af4, subsystemId: 0x1100, interruptPin: 1 },
      [{ kind: 'mem64', size: BAR0_SIZE }],
    );
    this.sectors = Math.floor(image.byteLength / SECTOR);
    this.serial = opts.serial ?? 'HVTS0001';
    this.model = opts.model ?? 'hvisor-ts NVMe';
    // QEMU's NVMe layout: PM at 0x60, PCIe at 0x80, MSI-X at 0x40, so a driver walks MSI-X, PCIe, PM.
    addPowerManagement(this.config, 0x60);
    addPciExpressEndpoint(this.config, 'endpoint', 0x80);
    this.messages.addMsix({ vectors: MAX_IO_QUEUES + 1, bar: 0, tableOffset: MSIX_TABLE, pbaOffset: MSIX_PBA }, 0x40);
    this.config.markPowerOnState();
  }

  protected readBar(_bar: number, offset: number, size: AccessSize): number {
    const word = this.readRegister(offset & ~3);
    const v = word >>> (8 * (offset & 3));
    return size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
  }

  protected writeBar(_bar: number, offset: number, size: AccessSize, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) return; // registers are dword-accessed; narrower writes are ignored
    value >>>= 0;
    if (offset >= Reg.Doorbells) {
      this.doorbell(offset - Reg.Doorbells, value);
      return;
    }
    switch (offset) {
      case Reg.Intms:
        this.intms |= value;
        this.updateIntx();
        break;
      case Reg.Intmc:
        this.intms &= ~value;
        this.updateIntx();
        break;
      case Reg.Cc:
        this.writeCc(value);
        break;
      case Reg.Aqa:
        this.aqa = value & 0x0fff_0fff;
        break;
      case Reg.AsqLo:
        this.asq = hiOf(this.asq) + ((value & ~0xfff) >>> 0);
        break;
      case Reg.AsqHi:
        this.asq = value * 0x1_0000_0000 + (this.asq % 0x1_0000_0000);
        break;
      case Reg.AcqLo:
        this.acq = hiOf(this.acq) + ((value & ~0xfff) >>> 0);
        break;
      case Reg.AcqHi:
        this.acq = value * 0x1_0000_0000 + (this.acq % 0x1_0000_0000);
        break;
      default:
        break; // read-only and reserved registers
    }
  }

  protected resetDevice(): void {
    this.cc = 0;
    this.aqa = 0;
    this.asq = 0;
    this.acq = 0;
    this.disable();
  }

  private readRegister(offset: number): number {
    switch (offset) {
      case Reg.CapLo:
        return (MQES | (1 << 16) | (20 << 24)) >>> 0; // contiguous queues required, 10 s timeout
      case Reg.CapHi:
        return 1 << 5; // NVM command set; DSTRD 0, MPSMIN = MPSMAX = 4 KiB
      case Reg.Vs:
        return 0x0001_0400;
      case Reg.Intms:
      case Reg.Intmc:
        return this.intms;
      case Reg.Cc:
        return this.cc;
      case Reg.Csts:
        return this.csts;
      case Reg.Aqa:
        return this.aqa;
      case Reg.AsqLo:
        return this.asq % 0x1_0000_0000;
      case Reg.AsqHi:
        return Math.floor(this.asq / 0x1_0000_0000);
      case Reg.AcqLo:
        return this.acq % 0x1_0000_0000;
      case Reg.AcqHi:
        return Math.floor(this.acq / 0x1_0000_0000);
      default:
        return 0; // CMB, PMR and doorbells read as zero
    }
  }

  private writeCc(value: number): void {
    const wasEnabled = (this.cc & 1) !== 0;
    this.cc = value & 0x00ff_fff1;
    const enable = (value & 1) !== 0;
    if (enable && !wasEnabled) this.enable();
    else if (!enable && wasEnabled) this.disable();
    const shn = (value >>> 14) & 3;
    if (shn !== 0) {
      this.image.flush();
      this.csts = (this.csts & ~0xc) | (2 << 2); // shutdown processing complete
    } else {
      this.csts &= ~0xc;
    }
  }

  private enable(): void {
    const asqs = (this.aqa & 0xfff) + 1;
    const acqs = ((this.aqa >>> 16) & 0xfff) + 1;
    const mps = (this.cc >>> 7) & 0xf;
    const css = (this.cc >>> 4) & 7;
    if (asqs < 2 || acqs < 2 || this.asq === 0 || this.acq === 0 || mps !== 0 || css !== 0) {
      this.csts |= 2; // controller fatal status: the driver programmed something we cannot run
      return;
    }
    this.sqs = [{ base: this.asq, size: asqs, head: 0, tail: 0, cqid: 0 }];
    this.cqs = [{ base: this.acq, size: acqs, head: 0, tail: 0, phase: 1, ien: true, vector: 0 }];
    this.csts = (this.csts & ~3) | 1;
  }

  private disable(): void {
    this.sqs = [];
    this.cqs = [];
    this.ioQueuesGranted = 0;
    this.csts = 0;
    this.intms = 0;
    this.updateIntx();
  }

  private doorbell(offset: number, value: number): void {
    if ((this.csts & 1) === 0 || (offset & 3) !== 0) return;
    const index = offset >>> 3;
    if ((offset & 4) === 0) {
      const sq = this.sqs[index];
      if (sq === undefined || value >= sq.size) return;
      sq.tail = value;
      this.process(index);
    } else {
      const cq = this.cqs[index];
      if (cq === undefined || value >= cq.size) return;
      cq.head = value;
      this.updateIntx();
      // Room in a full completion queue lets stalled submission queues go on.
      for (let i = 0; i < this.sqs.length; i++) if (this.sqs[i]?.cqid === index) this.process(i);
    }
  }

  private process(sqid: number): void {
    const sq = this.sqs[sqid]!;
    while (sq.head !== sq.tail && this.sqs[sqid] === sq) {
      const cq = this.cqs[sq.cqid];
      if (cq === undefined || (cq.tail + 1) % cq.size === cq.head) return; // wait for room
      if (!this.dmaRead(sq.base + sq.head * 64, this.cmd)) {
        this.csts |= 2;
        return;
      }
      sq.head = (sq.head + 1) % sq.size;
      const c = this.cmd32;
      const cid = c[0]! >>> 16;
      let result = 0;
      let status: number;
      if (sqid === 0) {
        const r = this.admin(c[0]! & 0xff);
        if (r === undefined) continue; // asynchronous event request: held until an event (none yet)
        [status, result] = r;
      } else {
        status = this.io(c[0]! & 0xff);
      }
      this.post(cq, sqid, sq.head, cid, status, result);
    }
  }

  private post(cq: CompletionQueue, sqid: number, sqHead: number, cid: number, status: number, result: number): void {
    const e = this.cqe32;
    e[0] = result;
    e[1] = 0;
    e[2] = (sqHead | (sqid << 16)) >>> 0;
    const sc = status & 0xff;
    const sct = status >>> 8;
    e[3] = (cid | (cq.phase << 16) | (sc << 17) | (sct << 25) | (status !== 0 ? 1 << 31 : 0)) >>> 0;
    if (!this.dmaWrite(cq.base + cq.tail * 16, this.cqe)) {
      this.csts |= 2;
      return;
    }
    this.completed++;
    cq.tail = (cq.tail + 1) % cq.size;
    if (cq.tail === 0) cq.phase ^= 1;
    if (cq.ien) {
      if (!this.signal(cq.vector)) this.updateIntx();
    }
  }

  /** INTx / single MSI: asserted while an interrupt-enabled CQ has unconsumed entries and vector 0 is unmasked. */
  private updateIntx(): void {
    let pending = false;
    for (const cq of this.cqs) if (cq !== undefined && cq.ien && cq.head !== cq.tail) pending = true;
    this.setIntx(pending && (this.intms & 1) === 0);
  }

  private dw(i: number): number {
    return this.cmd32[i]!;
  }
  private prp1(): number {
    return this.dw(7) * 0x1_0000_0000 + this.dw(6);
  }
  private prp2(): number {
    return this.dw(9) * 0x1_0000_0000 + this.dw(8);
  }

  /** Returns [status, result], or undefined for a command that completes later. */
  private admin(opcode: number): [number, number] | undefined {
    switch (opcode) {
      case 0x00: return [this.deleteSq(this.dw(10) & 0xffff), 0];
      case 0x01: return [this.createSq(), 0];
      case 0x02: return [this.getLogPage(), 0];
      case 0x04: return [this.deleteCq(this.dw(10) & 0xffff), 0];
      case 0x05: return [this.createCq(), 0];
      case 0x06: return [this.identify(), 0];
      case 0x08: return [Sc.Success, 1]; // abort: command not aborted
      case 0x09: return this.setFeatures();
      case 0x0a: return this.getFeatures();
      case 0x0c: return undefined;
      default: return [Sc.InvalidOpcode, 0];
    }
  }

  private identify(): number {
    const cns = this.dw(10) & 0xff;
    const page = new Uint8Array(4096);
    const p32 = new Uint32Array(page.buffer);
    if (cns === 0x01) {
      p32[0] = 0x1af4_1b36; // VID, SSVID
      ascii(page, 4, 20, this.serial);
      ascii(page, 24, 40, this.model);
      ascii(page, 64, 8, '1.0');
      page[72] = 6; // recommended arbitration burst
      page[77] = MDTS;
      p32[80 / 4] = 0x0001_0400; // version
      page[111] = 1; // I/O controller
      page[258] = 3; // abort command limit
      page[259] = 3; // async event request limit
      page[260] = 0x03; // firmware slot 1, read-only
      page[512] = 0x66; // SQ entry 64 bytes
      page[513] = 0x44; // CQ entry 16 bytes
      p32[516 / 4] = 1; // one namespace
      page[525] = 1; // volatile write cache present
      page[2048] = 2500 & 0xff; // power state 0: 25 W
      page[2049] = 2500 >> 8;
    } else if (cns === 0x00) {
      if (this.dw(1) !== 1) return Sc.InvalidNamespace;
      for (const at of [0, 8, 16]) {
        p32[at / 4] = this.sectors % 0x1_0000_0000;
        p32[at / 4 + 1] = Math.floor(this.sectors / 0x1_0000_0000);
      }
      page[25] = 0; // one LBA format
      page[26] = 0; // using format 0
      p32[128 / 4] = 9 << 16; // LBA format 0: 512-byte data, no metadata
    } else if (cns === 0x02) {
      if (this.dw(1) < 1) p32[0] = 1;
    } else if (cns === 0x03) {
      if (this.dw(1) !== 1) return Sc.InvalidNamespace;
      // No identifiers: the list is empty.
    } else {
      return Sc.InvalidField;
    }
    return this.transfer(page, true);
  }

  private getLogPage(): number {
    const numd = ((this.dw(10) >>> 16) & 0xfff) | ((this.dw(11) & 0xffff) << 12);
    const len = (numd + 1) * 4;
    if (len > 4096 * 2) return Sc.InvalidField;
    const lid = this.dw(10) & 0xff;
    if (lid !== 0x01 && lid !== 0x02 && lid !== 0x03) return Sc.InvalidField;
    return this.transfer(new Uint8Array(len), true);
  }

  private setFeatures(): [number, number] {
    const fid = this.dw(10) & 0xff;
    const v = this.dw(11);
    switch (fid) {
      case 0x06:
        this.writeCache = (v & 1) !== 0;
        return [Sc.Success, 0];
      case 0x07: {
        const nsq = v & 0xffff;
        const ncq = v >>> 16;
        if (nsq === 0xffff || ncq === 0xffff) return [Sc.InvalidField, 0];
        this.ioQueuesGranted = Math.min(MAX_IO_QUEUES, Math.max(nsq, ncq) + 1);
        const g = this.ioQueuesGranted - 1;
        return [Sc.Success, (g | (g << 16)) >>> 0];
      }
      case 0x08: // interrupt coalescing
      case 0x0b: // asynchronous event configuration
        return [Sc.Success, 0];
      default:
        return [Sc.InvalidField, 0];
    }
  }

  private getFeatures(): [number, number] {
    switch (this.dw(10) & 0xff) {
      case 0x06:
        return [Sc.Success, this.writeCache ? 1 : 0];
      case 0x07: {
        const g = Math.max(this.ioQueuesGranted, 1) - 1;
        return [Sc.Success, (g | (g << 16)) >>> 0];
      }
      case 0x08:
      case 0x0b:
        return [Sc.Success, 0];
      default:
        return [Sc.InvalidField, 0];
    }
  }

  private createCq(): number {
    const qid = this.dw(10) & 0xffff;
    const size = (this.dw(10) >>> 16) + 1;
    const flags = this.dw(11);
    const vector = flags >>> 16;
    if (qid === 0 || qid > MAX_IO_QUEUES || this.cqs[qid] !== undefined) return Sc.InvalidQid;
    if (size < 2 || size > MQES + 1) return Sc.InvalidQsize;
    if ((flags & 1) === 0) return Sc.InvalidField; // physically contiguous only
    if (vector > MAX_IO_QUEUES) return Sc.InvalidVector;
    const base = this.prp1();
    if (base % 4096 !== 0) return Sc.InvalidField;
    this.cqs[qid] = { base, size, head: 0, tail: 0, phase: 1, ien: (flags & 2) !== 0, vector };
    return Sc.Success;
  }

  private createSq(): number {
    const qid = this.dw(10) & 0xffff;
    const size = (this.dw(10) >>> 16) + 1;
    const flags = this.dw(11);
    const cqid = flags >>> 16;
    if (qid === 0 || qid > MAX_IO_QUEUES || this.sqs[qid] !== undefined) return Sc.InvalidQid;
    if (size < 2 || size > MQES + 1) return Sc.InvalidQsize;
    if ((flags & 1) === 0) return Sc.InvalidField;
    if (cqid === 0 || this.cqs[cqid] === undefined) return Sc.InvalidCq;
    const base = this.prp1();
    if (base % 4096 !== 0) return Sc.InvalidField;
    this.sqs[qid] = { base, size, head: 0, tail: 0, cqid };
    return Sc.Success;
  }

  private deleteSq(qid: number): number {
    if (qid === 0 || this.sqs[qid] === undefined) return Sc.InvalidQid;
    this.sqs[qid] = undefined;
    return Sc.Success;
  }

  private deleteCq(qid: number): number {
    if (qid === 0 || this.cqs[qid] === undefined) return Sc.InvalidQid;
    if (this.sqs.some((s) => s?.cqid === qid)) return 0x10c; // invalid queue deletion
    this.cqs[qid] = undefined;
    this.updateIntx();
    return Sc.Success;
  }

  private io(opcode: number): number {
    if (this.dw(1) !== 1) return Sc.InvalidNamespace;
    if (opcode === 0x00) return this.image.flush() ? Sc.Success : 0x06; // internal error
    if (opcode !== 0x01 && opcode !== 0x02) return Sc.InvalidOpcode;
    const slba = this.dw(11) * 0x1_0000_0000 + this.dw(10);
    const nlb = (this.dw(12) & 0xffff) + 1;
    if (slba + nlb > this.sectors) return Sc.LbaOutOfRange;
    const len = nlb * SECTOR;
    if (len > 4096 << MDTS) return Sc.InvalidField;
    const buf = new Uint8Array(len);
    if (opcode === 0x02) {
      if (!this.image.read(slba * SECTOR, buf)) return 0x281; // media: unrecovered read error
      return this.transfer(buf, true);
    }
    const st = this.transfer(buf, false);
    if (st !== Sc.Success) return st;
    if (this.image.readOnly) return 0x182; // attempted write to a read-only range
    return this.image.write(slba * SECTOR, buf) ? Sc.Success : 0x280; // media: write fault
  }

  /** Moves `buf` to (toHost) or from guest memory along the command's PRP entries. */
  private transfer(buf: Uint8Array, toHost: boolean): number {
    const page = 4096;
    const prp1 = this.prp1();
    let done = Math.min(buf.length, page - (prp1 % page));
    if (!this.move(prp1, buf.subarray(0, done), toHost)) return Sc.DataTransferError;
    if (done === buf.length) return Sc.Success;
    const prp2 = this.prp2();
    if (buf.length - done <= page) {
      return this.move(prp2, buf.subarray(done), toHost) ? Sc.Success : Sc.DataTransferError;
    }
    // PRP2 points at a list; the last entry of a full list page chains to the next list page.
    let listPage = prp2 - (prp2 % page);
    let slot = (prp2 % page) / 8;
    if (!Number.isInteger(slot)) return 0x13; // PRP offset invalid
    const entry = new Uint8Array(8);
    const entry32 = new Uint32Array(entry.buffer);
    while (done < buf.length) {
      if (!this.dmaRead(listPage + slot * 8, entry)) return Sc.DataTransferError;
      const addr = entry32[1]! * 0x1_0000_0000 + entry32[0]!;
      if (addr % page !== 0) return 0x13;
      if (slot === page / 8 - 1 && buf.length - done > page) {
        listPage = addr;
        slot = 0;
        continue;
      }
      const n = Math.min(page, buf.length - done);
      if (!this.move(addr, buf.subarray(done, done + n), toHost)) return Sc.DataTransferError;
      done += n;
      slot++;
    }
    return Sc.Success;
  }

  private move(addr: number, part: Uint8Array, toHost: boolean): boolean {
    return toHost ? this.dmaWrite(addr, part) : this.dmaRead(addr, part);
  }
}

function hiOf(v: number): number {
  return Math.floor(v / 0x1_0000_0000) * 0x1_0000_0000;
}

function ascii(page: Uint8Array, at: number, len: number, text: string): void {
  for (let i = 0; i < len; i++) page[at + i] = i < text.length ? text.charCodeAt(i) & 0x7f : 0x20;
}
