import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadZoneConfig, zoneConfigFromJson, type ZoneConfig } from '../../src/config/zone-config.js';
import { checkPartition, PartitionError } from '../../src/hypervisor/lifecycle/partition-check.js';
import { qemuVirtAarch64, qemuVirtRiscv64 } from './boards.js';

const dir = join(import.meta.dirname, 'configs');
const json = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
const zone0 = () => loadZoneConfig(join(dir, 'qemu-aarch64-zone0.json'));
const zone1 = () => loadZoneConfig(join(dir, 'qemu-aarch64-zone1_linux_with_pci.json'));
const variant = (f: string, source: string, mutate: (j: any) => void): ZoneConfig => {
  const j = json(f);
  mutate(j);
  return zoneConfigFromJson(j, source);
};

function refusal(zones: ZoneConfig[], board = qemuVirtAarch64().machine): PartitionError {
  try {
    checkPartition(board, zones);
  } catch (e) {
    expect(e).toBeInstanceOf(PartitionError);
    return e as PartitionError;
  }
  throw new Error('expected the partition to be refused');
}

describe('partition check', () => {
  it('accepts hvisor-tool’s qemu-aarch64 zone1 next to a root zone, and the riscv64 example on a riscv board', () => {
    expect(() => checkPartition(qemuVirtAarch64().machine, [zone0(), zone1()])).not.toThrow();
    const rv = loadZoneConfig(join(dir, 'qemu-riscv64-linux2.json'));
    expect(() => checkPartition(qemuVirtRiscv64().machine, [rv])).not.toThrow();
  });

  it('refuses a CPU claimed twice, naming both zones', () => {
    const z1 = variant('qemu-aarch64-zone1_linux_with_pci.json', 'zone1.json', (j) => (j.cpus = [1, 2]));
    const e = refusal([zone0(), z1]);
    expect(e.resource).toBe('cpu');
    expect(e.message).toBe(`CPU 1 is claimed by both zone 0 (root-linux, ${join(dir, 'qemu-aarch64-zone0.json')}) and zone 1 (linux2, zone1.json)`);
  });

  it('refuses overlapping RAM with the overlapping physical range', () => {
    const z1 = variant('qemu-aarch64-zone1_linux_with_pci.json', 'zone1.json', (j) => (j.memory_regions[0].physical_start = '0x4f000000'));
    const e = refusal([zone0(), z1]);
    expect(e.resource).toBe('ram');
    expect(e.message).toMatch(/^physical \[0x4f000000, 0x50000000\) is claimed by both zone 0 \(root-linux, .*\) \(memory_regions\[0\] ram\) and zone 1 \(linux2, zone1.json\) \(memory_regions\[0\] ram\)$/);
  });

  it('refuses a device passed through to two zones, and interrupts and PCI functions owned twice', () => {
    const io = variant('qemu-aarch64-zone1_linux_with_pci.json', 'zone1.json', (j) =>
      j.memory_regions.push({ type: 'io', physical_start: '0x9000800', virtual_start: '0x9000800', size: '0x800' }));
    expect(refusal([zone0(), io]).message).toMatch(/^physical \[0x9000800, 0x9001000\) is claimed by both zone 0 .* \(memory_regions\[1\] io\) and zone 1 .* \(memory_regions\[2\] io\)$/);
    const irq = variant('qemu-aarch64-zone1_linux_with_pci.json', 'zone1.json', (j) => j.interrupts.push(33));
    expect(refusal([zone0(), irq]).message).toMatch(/^interrupt 33 is claimed by both zone 0 .* and zone 1 \(linux2, zone1.json\)$/);
    const z2 = variant('qemu-aarch64-zone1_linux_with_pci.json', 'zone2.json', (j) => {
      j.zone_id = 2; j.name = 'other'; j.cpus = [0]; j.memory_regions = []; j.interrupts = [];
    });
    const pci = refusal([zone1(), z2]);
    expect(pci.resource).toBe('pci');
    expect(pci.message).toBe('PCI function 0000:00:11.0 is given to both zone 1 (linux2, ' + join(dir, 'qemu-aarch64-zone1_linux_with_pci.json') + ') and zone 2 (other, zone2.json)');
  });

  it('lets two zones use the same virtio window (per-zone emulated) but not the same zone id', () => {
    const z2 = variant('qemu-aarch64-zone1_linux_with_pci.json', 'zone2.json', (j) => {
      j.zone_id = 2; j.cpus = [0]; j.memory_regions[0].physical_start = '0x80000000'; j.memory_regions[0].virtual_start = '0x80000000';
      j.memory_regions[0].size = '0x10000000'; j.interrupts = []; j.alloc_pci_devs = [];
    });
    expect(() => checkPartition(qemuVirtAarch64().machine, [zone1(), z2])).not.toThrow();
    const dup = variant('qemu-aarch64-zone1_linux_with_pci.json', 'dup.json', (j) => {
      j.cpus = [0]; j.memory_regions = []; j.interrupts = []; j.alloc_pci_devs = [];
    });
    expect(refusal([zone1(), dup]).message).toMatch(/^zone id 1 is used by both zone 1 \(linux2, .*\) and zone 1 \(linux2, dup.json\)$/);
  });

  it('refuses regions off the board, unknown CPUs and guest-physical overlaps inside a zone', () => {
    const off = variant('qemu-aarch64-zone1_linux_with_pci.json', 'zone1.json', (j) => (j.memory_regions[0].size = '0x80000000'));
    expect(refusal([off]).message).toBe('zone 1 (linux2, zone1.json) memory_regions[0] ram [0x50000000, 0xd0000000) is not inside one RAM bank of board qemu-virt-aarch64 (banks: [0x40000000, 0xc0000000))');
    const noDev = variant('qemu-aarch64-zone1_linux_with_pci.json', 'zone1.json', (j) =>
      j.memory_regions.push({ type: 'io', physical_start: '0x20000000', virtual_start: '0x20000000', size: '0x1000' }));
    expect(refusal([noDev]).message).toBe('zone 1 (linux2, zone1.json) memory_regions[2] io [0x20000000, 0x20001000) covers no device of board qemu-virt-aarch64');
    const ramIo = variant('qemu-aarch64-zone1_linux_with_pci.json', 'zone1.json', (j) =>
      j.memory_regions.push({ type: 'io', physical_start: '0x40000000', virtual_start: '0x40000000', size: '0x1000' }));
    expect(refusal([ramIo]).resource).toBe('io');
    const cpu = variant('qemu-aarch64-zone1_linux_with_pci.json', 'zone1.json', (j) => (j.cpus = [7]));
    expect(refusal([cpu]).message).toBe('zone 1 (linux2, zone1.json) asks for CPU 7, but board qemu-virt-aarch64 has CPUs 0, 1, 2, 3');
    const gpa = variant('qemu-aarch64-zone1_linux_with_pci.json', 'zone1.json', (j) => (j.memory_regions[1].virtual_start = '0x50001000'));
    expect(refusal([gpa]).message).toBe('zone 1 (linux2, zone1.json): memory_regions[0] [0x50000000, 0x80000000) and memory_regions[1] [0x50001000, 0x50005000) overlap in guest-physical space');
  });

  it('IVC: both peers may name the doorbell interrupt; mismatched channel shapes are refused', () => {
    const peer = (id: number, cpu: number, base: string, peerId: number, out = '0x1000') =>
      variant('qemu-aarch64-zone1_ruxos_display.json', `ivc${id}.json`, (j) => {
        j.zone_id = id; j.cpus = [cpu]; j.memory_regions = [{ type: 'ram', physical_start: base, virtual_start: base, size: '0x1000000' }];
        j.interrupts = [66]; j.ivc_configs[0].peer_id = peerId; j.ivc_configs[0].out_sec_size = out;
      });
    expect(() => checkPartition(qemuVirtAarch64().machine, [peer(1, 2, '0x50000000', 0), peer(2, 3, '0x60000000', 1)])).not.toThrow();
    expect(refusal([peer(1, 2, '0x50000000', 0), peer(2, 3, '0x60000000', 0)]).message).toBe('ivc 0: peer id 0 is taken by both zone 1 (ruxos_display, ivc1.json) and zone 2 (ruxos_display, ivc2.json)');
    expect(refusal([peer(1, 2, '0x50000000', 0), peer(2, 3, '0x60000000', 1, '0x2000')]).resource).toBe('ivc');
  });

  it('as in hvisor, the root zone’s RAM may cover a nonroot zone’s RAM (its loader area); strict mode refuses', () => {
    const root = variant('qemu-aarch64-zone0.json', 'zone0.json', (j) => (j.memory_regions[0].size = '0x70000000'));
    expect(() => checkPartition(qemuVirtAarch64().machine, [root, zone1()])).not.toThrow();
    let e: unknown;
    try {
      checkPartition(qemuVirtAarch64().machine, [root, zone1()], { rootMayCoverNonrootRam: false });
    } catch (x) {
      e = x;
    }
    expect((e as PartitionError).message).toMatch(/^physical \[0x50000000, 0x80000000\) is claimed by both zone 0 \(root-linux, zone0.json\)/);
    // Two nonroot zones never share RAM, whatever the root zone covers.
    const z2 = variant('qemu-aarch64-zone1_linux_with_pci.json', 'zone2.json', (j) => {
      j.zone_id = 2; j.cpus = [0]; j.interrupts = []; j.alloc_pci_devs = []; j.memory_regions[0].physical_start = '0x60000000';
      j.memory_regions[0].virtual_start = '0x60000000';
    });
    const root2 = variant('qemu-aarch64-zone0.json', 'zone0.json', (j) => ((j.memory_regions[0].size = '0x70000000'), (j.cpus = [1])));
    expect(refusal([root2, zone1(), z2]).message).toMatch(/^physical \[0x60000000, 0x80000000\) is claimed by both zone 1 .* and zone 2/);
  });
});
