/**
 * What firmware hands a LoongArch Linux kernel (Documentation/arch/loongarch/booting.rst): a0 = 1
 * (EFI boot), a1 = the command line, a2 = an EFI system table. We are the firmware (as QEMU's direct
 * kernel boot is), so the table is a minimal one: no boot or runtime services, and the configuration
 * tables the kernel's efi_init reads: the memory map (LINUX_EFI_BOOT_MEMMAP_GUID) and the device
 * tree (DEVICE_TREE_GUID). The initrd is named in the device tree's /chosen.
 */

export interface LoongarchBootInfoInput {
  /** Guest-physical address the blob will be placed at. */
  readonly base: number;
  readonly commandLine: string;
  readonly dtb: number;
  /** RAM the kernel may use, guest-physical. */
  readonly ram: readonly { readonly base: number; readonly size: number }[];
}

export interface LoongarchBootInfo {
  readonly blob: Uint8Array;
  /** a0, a1, a2 for the boot CPU. */
  readonly registers: readonly bigint[];
}

const COMMAND_LINE_SIZE = 4096;
const SYSTAB = 0x1000;
const VENDOR = 0x1100;
const TABLES = 0x1200;
const MEMMAP = 0x1300;
const EFI_SYSTEM_TABLE_SIGNATURE = 0x5453595320494249n; // "IBI SYST"
const EFI_CONVENTIONAL_MEMORY = 7;
const DESC_SIZE = 40;

function guid(a: number, b: number, c: number, rest: number[]): Uint8Array {
  const g = new Uint8Array(16);
  const dv = new DataView(g.buffer);
  dv.setUint32(0, a, true);
  dv.setUint16(4, b, true);
  dv.setUint16(6, c, true);
  g.set(rest, 8);
  return g;
}
const LINUX_EFI_BOOT_MEMMAP_GUID = guid(0x800f683f, 0xd08b, 0x423a, [0xa2, 0x93, 0x96, 0x5c, 0x3c, 0x6f, 0xe2, 0xb4]);
const DEVICE_TREE_GUID = guid(0xb1b621d5, 0xf19c, 0x41a5, [0x83, 0x0b, 0xd9, 0x15, 0x2c, 0x69, 0xaa, 0xe0]);

/** The blob (command line, system table, configuration tables, memory map) and the boot registers. */
export function loongarchBootInfo(input: LoongarchBootInfoInput): LoongarchBootInfo {
  const ram = input.ram.filter((r) => r.size >= 0x1000);
  const size = MEMMAP + 40 + ram.length * DESC_SIZE;
  const blob = new Uint8Array(size);
  const dv = new DataView(blob.buffer);
  const cmd = new TextEncoder().encode(input.commandLine);
  blob.set(cmd.subarray(0, COMMAND_LINE_SIZE - 1), 0);
  const at = (off: number) => BigInt(input.base + off);

  // efi_system_table_64_t
  dv.setBigUint64(SYSTAB, EFI_SYSTEM_TABLE_SIGNATURE, true);
  dv.setUint32(SYSTAB + 8, (2 << 16) | 100, true); // revision 2.100
  dv.setUint32(SYSTAB + 12, 120, true); // header size
  dv.setBigUint64(SYSTAB + 24, at(VENDOR), true); // fw_vendor
  dv.setUint32(SYSTAB + 32, 1 << 16, true); // fw_revision
  dv.setUint32(SYSTAB + 104, 2, true); // nr_tables
  dv.setBigUint64(SYSTAB + 112, at(TABLES), true);
  'hvisor-ts'.split('').forEach((ch, i) => dv.setUint16(VENDOR + 2 * i, ch.charCodeAt(0), true));

  // efi_config_table_64_t: guid, table
  blob.set(LINUX_EFI_BOOT_MEMMAP_GUID, TABLES);
  dv.setBigUint64(TABLES + 16, at(MEMMAP), true);
  blob.set(DEVICE_TREE_GUID, TABLES + 24);
  dv.setBigUint64(TABLES + 40, BigInt(input.dtb), true);

  // struct efi_boot_memmap: map_size, desc_size, desc_ver, map_key, buff_size, then the descriptors.
  dv.setBigUint64(MEMMAP, BigInt(ram.length * DESC_SIZE), true);
  dv.setBigUint64(MEMMAP + 8, BigInt(DESC_SIZE), true);
  dv.setUint32(MEMMAP + 16, 1, true);
  dv.setBigUint64(MEMMAP + 32, BigInt(ram.length * DESC_SIZE), true);
  ram.forEach((r, i) => {
    const d = MEMMAP + 40 + i * DESC_SIZE;
    dv.setUint32(d, EFI_CONVENTIONAL_MEMORY, true);
    dv.setBigUint64(d + 8, BigInt(r.base), true);
    dv.setBigUint64(d + 24, BigInt(Math.floor(r.size / 0x1000)), true); // 4 KiB EFI pages
    dv.setBigUint64(d + 32, 0xfn, true); // UC | WC | WT | WB
  });
  return { blob, registers: [1n, at(0), at(SYSTAB)] };
}
