import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';
import { Ram } from '../../machine/ram.js';
import { PartitionError } from './partition-check.js';
import type { SharedRamWindow, ZoneDeviceWindow } from '../stage2/stage2.js';
import type { IvcConfig, ZoneConfig } from '../../config/zone-config.js';
import type { Zone } from '../zone/zone.js';

/**
 * Inter-VM communication as hvisor does it (src/arch/aarch64/ivc.rs): per ivc_id, one shared
 * block of rw_sec_size + max_peers x out_sec_size bytes allocated by the hypervisor (not from any
 * zone's RAM). Each peer maps it at its shared_mem_ipa: the rw section and its own out section
 * read-write, the other peers' out sections read-only. A 4 KiB control table at
 * control_table_ipa reports the channel (ivc_id, max_peers, section sizes, the caller's peer id)
 * and rings a peer: writing a peer id to IPI_INVOKE pends that peer's interrupt_num in its zone.
 */
export const IvcControl = {
  IvcId: 0x00,
  MaxPeers: 0x04,
  RwSecSize: 0x08,
  OutSecSize: 0x0c,
  PeerId: 0x10,
  IpiInvoke: 0x14,
} as const;

export const IVC_CONTROL_TABLE_SIZE = 0x1000;

interface Peer {
  readonly zoneId: number;
  readonly irq: number;
  zone: Zone | undefined;
}

interface Channel {
  readonly id: number;
  readonly maxPeers: number;
  readonly rwSecSize: number;
  readonly outSecSize: number;
  readonly ram: Ram;
  readonly peers: Map<number, Peer>;
}

/** What a zone maps for its IVC channels. */
export interface IvcMapping {
  readonly sharedRam: readonly SharedRamWindow[];
  readonly windows: readonly ZoneDeviceWindow[];
}

export class IvcHub {
  private readonly channels = new Map<number, Channel>();

  /** Joins the zone's channels (creating them on first use); checks them as hvisor does. */
  attach(config: ZoneConfig): IvcMapping {
    const sharedRam: SharedRamWindow[] = [];
    const windows: ZoneDeviceWindow[] = [];
    const joined: [Channel, number][] = [];
    try {
      for (const c of config.ivcConfigs) {
        const ch = this.join(config, c);
        joined.push([ch, c.peerId]);
        if (ch.rwSecSize > 0) sharedRam.push({ base: c.sharedMemIpa, size: ch.rwSecSize, ram: ch.ram, ramOffset: 0, name: `ivc${ch.id} rw` });
        for (let i = 0; i < ch.maxPeers && ch.outSecSize > 0; i++) {
          const base = c.sharedMemIpa + ch.rwSecSize + i * ch.outSecSize;
          const offset = ch.rwSecSize + i * ch.outSecSize;
          if (i === c.peerId) sharedRam.push({ base, size: ch.outSecSize, ram: ch.ram, ramOffset: offset, name: `ivc${ch.id} out ${i} (own)` });
          else windows.push({ base, size: ch.outSecSize, device: new ReadOnlyRam(ch.ram, offset, `ivc${ch.id} out ${i}`), name: `ivc${ch.id} out ${i} (read-only)` });
        }
        windows.push({ base: c.controlTableIpa, size: IVC_CONTROL_TABLE_SIZE, device: new IvcControlTable(this, ch, config.zoneId, c.peerId), name: `ivc${ch.id} control table` });
      }
    } catch (e) {
      for (const [ch, peer] of joined) this.leave(ch, peer);
      throw e;
    }
    return { sharedRam, windows };
  }

  /** Tells the hub which Zone object rings reach (after the zone is built). */
  bind(zone: Zone): void {
    for (const ch of this.channels.values()) for (const p of ch.peers.values()) if (p.zoneId === zone.id) p.zone = zone;
  }

  /** The zone leaves its channels; a channel with no peers left is freed. */
  detach(zoneId: number): void {
    for (const ch of [...this.channels.values()]) {
      for (const [peerId, p] of [...ch.peers]) if (p.zoneId === zoneId) this.leave(ch, peerId);
    }
  }

  /** hvisor's IvcInfo for HvIvcInfo: the zone's channels, or undefined if it has none. */
  infoOf(config: ZoneConfig): readonly IvcConfig[] | undefined {
    return config.ivcConfigs.length === 0 ? undefined : config.ivcConfigs;
  }

  /** Pends peer `peerId`'s doorbell interrupt in its zone. False when there is no such peer. */
  ring(ch: Channel, peerId: number): boolean {
    const p = ch.peers.get(peerId);
    if (p === undefined || p.zone === undefined) return false;
    const line = p.zone.irqchip?.input(p.irq);
    if (line === undefined) {
      p.zone.log(`ivc${ch.id}: doorbell interrupt ${p.irq} has no input on the zone's interrupt controller`);
      return false;
    }
    line.pulse();
    return true;
  }

  private join(config: ZoneConfig, c: IvcConfig): Channel {
    const where = `zone ${config.zoneId} (${config.name}) ivc ${c.ivcId}`;
    let ch = this.channels.get(c.ivcId);
    if (ch === undefined) {
      if (c.rwSecSize % 0x1000 !== 0 || c.outSecSize % 0x1000 !== 0) throw new PartitionError('ivc', `${where}: section sizes must be multiples of 4 KiB`);
      if (c.maxPeers < 1 || c.peerId >= c.maxPeers) throw new PartitionError('ivc', `${where}: peer id ${c.peerId} outside max_peers ${c.maxPeers}`);
      const size = c.rwSecSize + c.outSecSize * c.maxPeers;
      if (size === 0) throw new PartitionError('ivc', `${where}: no shared memory (all sections are empty)`);
      ch = { id: c.ivcId, maxPeers: c.maxPeers, rwSecSize: c.rwSecSize, outSecSize: c.outSecSize, ram: new Ram(size), peers: new Map() };
      this.channels.set(c.ivcId, ch);
    } else if (ch.maxPeers !== c.maxPeers || ch.rwSecSize !== c.rwSecSize || ch.outSecSize !== c.outSecSize) {
      throw new PartitionError('ivc', `${where}: max_peers/rw_sec_size/out_sec_size differ from the running peers'`);
    }
    if (ch.peers.has(c.peerId)) throw new PartitionError('ivc', `${where}: peer id ${c.peerId} is taken by zone ${ch.peers.get(c.peerId)!.zoneId}`);
    if (c.peerId >= ch.maxPeers) throw new PartitionError('ivc', `${where}: peer id ${c.peerId} outside max_peers ${ch.maxPeers}`);
    ch.peers.set(c.peerId, { zoneId: config.zoneId, irq: c.interruptNum, zone: undefined });
    return ch;
  }

  private leave(ch: Channel, peerId: number): void {
    ch.peers.delete(peerId);
    if (ch.peers.size === 0) this.channels.delete(ch.id);
  }
}

/** Another peer's out section: reads see its bytes, writes are dropped (stage 2 maps it read-only). */
class ReadOnlyRam implements MmioDevice {
  constructor(
    private readonly ram: Ram,
    private readonly offset: number,
    readonly name: string,
  ) {}
  read(offset: number, size: AccessSize): number {
    const u8 = this.ram.u8;
    const i = this.offset + offset;
    let v = 0;
    for (let k = size - 1; k >= 0; k--) v = (v * 256 + u8[i + k]!) >>> 0;
    return v;
  }
  write(): void {}
  reset(): void {}
  peek(offset: number, size: AccessSize): number {
    return this.read(offset, size);
  }
}

/** The per-zone view of a channel's control table. */
class IvcControlTable implements MmioDevice {
  readonly name = 'ivc-control';
  constructor(
    private readonly hub: IvcHub,
    private readonly ch: Channel,
    private readonly zoneId: number,
    private readonly peerId: number,
  ) {}
  read(offset: number, size: AccessSize): number {
    return this.peek(offset, size) ?? 0;
  }
  write(offset: number, _size: AccessSize, value: number): void {
    if (offset !== IvcControl.IpiInvoke) return;
    if (!this.hub.ring(this.ch, value >>> 0)) {
      const from = this.ch.peers.get(this.peerId)?.zone;
      from?.log(`ivc${this.ch.id}: zone ${this.zoneId} rang peer ${value >>> 0}, which is not connected`);
    }
  }
  reset(): void {}
  peek(offset: number, size: AccessSize = 4): number | undefined {
    if (offset >= IVC_CONTROL_TABLE_SIZE) return undefined;
    const word = this.register(offset & ~3);
    const shifted = word >>> (8 * (offset & 3));
    return size === 4 ? shifted >>> 0 : shifted & ((1 << (8 * size)) - 1);
  }
  private register(offset: number): number {
    switch (offset) {
      case IvcControl.IvcId:
        return this.ch.id;
      case IvcControl.MaxPeers:
        return this.ch.maxPeers;
      case IvcControl.RwSecSize:
        return this.ch.rwSecSize;
      case IvcControl.OutSecSize:
        return this.ch.outSecSize;
      case IvcControl.PeerId:
        return this.peerId;
      default:
        return 0;
    }
  }
}
