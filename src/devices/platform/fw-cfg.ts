/**
 * QEMU's firmware configuration device (qemu,fw-cfg-mmio), reduced to what boot firmware asks on
 * the virt boards: U-Boot's qfw driver checks the "QEMU" signature and the feature word, then
 * (at autoboot) the kernel/initrd/command-line sizes — all zero here, so it reports "no kernel
 * available" as it does under QEMU without -kernel — and may list the (empty) file directory.
 * Interface: a 16-bit big-endian selector at 0x8 and a byte stream at 0x0 that successive reads
 * consume in order (a 4-byte read returns the next four bytes). The DMA interface is not offered
 * (feature word 1), so firmware uses the stream.
 */
import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';

const enum Key {
  Signature = 0x0000,
  Id = 0x0001,
  Uuid = 0x0002,
  NbCpus = 0x0005,
  KernelSize = 0x0008,
  InitrdSize = 0x000b,
  CmdlineSize = 0x0014,
  SetupSize = 0x0017,
  FileDir = 0x0019,
}

export interface FwCfgOptions {
  /** vCPUs of the zone (FW_CFG_NB_CPUS). */
  readonly cpus: number;
}

export class FwCfg implements MmioDevice {
  readonly name = 'fw-cfg';
  private readonly items = new Map<number, Uint8Array>();
  private selected: Uint8Array | undefined;
  private key = 0;
  private pos = 0;

  constructor(options: FwCfgOptions) {
    const le = (n: number, bytes: number) => Uint8Array.from({ length: bytes }, (_, i) => (n >>> (8 * i)) & 0xff);
    this.items.set(Key.Signature, new TextEncoder().encode('QEMU'));
    this.items.set(Key.Id, le(1, 4)); // traditional interface only
    this.items.set(Key.Uuid, new Uint8Array(16));
    this.items.set(Key.NbCpus, le(options.cpus, 2));
    for (const k of [Key.KernelSize, Key.InitrdSize, Key.CmdlineSize, Key.SetupSize]) this.items.set(k, le(0, 4));
    this.items.set(Key.FileDir, new Uint8Array(4)); // big-endian count 0
    this.reset();
  }

  reset(): void {
    this.select(0);
  }

  private select(key: number): void {
    this.key = key;
    this.selected = this.items.get(key);
    this.pos = 0;
  }

  read(offset: number, size: AccessSize): number {
    if (offset !== 0) return 0;
    let v = 0;
    for (let k = 0; k < size; k++) {
      const b = this.selected !== undefined && this.pos < this.selected.length ? this.selected[this.pos]! : 0;
      if (this.selected !== undefined && this.pos < this.selected.length) this.pos++;
      v |= b << (8 * k);
    }
    return v >>> 0;
  }

  peek(offset: number): number | undefined {
    return offset === 0 ? undefined : 0; // the data port consumes the stream
  }

  write(offset: number, size: AccessSize, value: number): void {
    // The selector is big-endian: a little-endian 16-bit store of cpu_to_be16(key).
    if (offset === 8 && size === 2) this.select(((value & 0xff) << 8) | ((value >>> 8) & 0xff));
  }

  /** The selected item key (for `monitor` listings). */
  get selectedKey(): number {
    return this.key;
  }
}
