/*
 * Conformance of what an aarch64 zone's firmware and interrupt controller promise, written from
 * the specifications' tables (PSCI 1.1 = Arm DEN 0022, GICv3/v4 = Arm IHI 0069), not from what
 * Linux happens to use. Runs at EL1 on QEMU virt (gic-version=3, PSCI over HVC) and in an
 * hvisor-ts zone of the same board; both print the same lines.
 *
 *  - PSCI: PSCI_VERSION, PSCI_FEATURES of every function id PSCI 1.1 defines, MIGRATE_INFO_TYPE,
 *    AFFINITY_INFO, CPU_ON (bad MPIDR, success, ALREADY_ON), CPU_OFF seen from the other CPU,
 *    CPU_SUSPEND standby woken by the virtual timer, CPU_SUSPEND with a power level it lacks.
 *  - GICv3 ITS: GITS_TYPER and GITS_BASER<n> reset values, Device and Collection tables in the
 *    program's memory, MAPC / MAPD / MAPTI / INV / SYNC and the table entries they leave, INT
 *    delivered as the LPI, MOVI / CLEAR / DISCARD, MAPD V=0, an indirect Device table.
 */
#include "aarch64.h"

#define GICD 0x08000000UL
#define GICR 0x080a0000UL /* CPU 0's RD_base; SGI_base at +0x10000 */
#define ITS 0x08080000UL

#define PSCI_VERSION 0x84000000UL
#define PSCI_CPU_SUSPEND64 0xc4000001UL
#define PSCI_CPU_OFF 0x84000002UL
#define PSCI_AFFINITY_INFO64 0xc4000004UL
#define PSCI_MIGRATE_INFO_TYPE 0x84000006UL
#define PSCI_FEATURES 0x8400000aUL

/* Every function id of PSCI 1.1 (SMC32 and SMC64 forms), and one that is none. */
static const u32 psci_ids[] = {
  0x84000000, 0x84000001, 0xc4000001, 0x84000002, 0x84000003, 0xc4000003, 0x84000004, 0xc4000004,
  0x84000005, 0xc4000005, 0x84000006, 0x84000007, 0xc4000007, 0x84000008, 0x84000009, 0x8400000a,
  0x8400000b, 0x8400000c, 0xc400000c, 0x8400000d, 0xc400000d, 0x8400000e, 0xc400000e, 0x8400000f,
  0x84000010, 0xc4000010, 0x84000011, 0xc4000011, 0x84000012, 0xc4000012, 0x84000013, 0x84000014,
  0xc4000014, 0x8400001f,
};

/* Guest-allocated ITS and LPI tables (alignment as the GICv3 specification requires). */
static u8 device_table[0x10000] __attribute__((aligned(0x10000)));
static u8 collection_table[0x10000] __attribute__((aligned(0x10000)));
static u8 pending_table[0x10000] __attribute__((aligned(0x10000)));
static u8 property_table[0x2000] __attribute__((aligned(0x1000)));
static u8 command_queue[0x1000] __attribute__((aligned(0x1000)));
static u8 level1[0x1000] __attribute__((aligned(0x1000)));
static u8 level2[0x1000] __attribute__((aligned(0x1000)));
static u8 itt[0x400] __attribute__((aligned(0x100)));
static u8 itt2[0x100] __attribute__((aligned(0x100)));

static volatile u64 secondary_seen;
static volatile u64 secondary_may_stop;

void secondary_main(u64 context) {
  secondary_seen = context;
  while (!secondary_may_stop) {}
  psci(PSCI_CPU_OFF, 0, 0, 0);
}

static void psci_checks(void) {
  report("PSCI_VERSION", psci(PSCI_VERSION, 0, 0, 0));
  for (unsigned i = 0; i < sizeof psci_ids / sizeof psci_ids[0]; i++) {
    puts_raw("PSCI_FEATURES ");
    put_hex(psci_ids[i]);
    report("", psci(PSCI_FEATURES, psci_ids[i], 0, 0));
  }
  report("MIGRATE_INFO_TYPE", psci(PSCI_MIGRATE_INFO_TYPE, 0, 0, 0));
  report("AFFINITY_INFO cpu0", psci(PSCI_AFFINITY_INFO64, 0, 0, 0));
  report("AFFINITY_INFO cpu1", psci(PSCI_AFFINITY_INFO64, 1, 0, 0));
  report("CPU_ON mpidr 9", psci(PSCI_CPU_ON64, 9, (u64)secondary_entry, 0));
  report("CPU_ON cpu1", psci(PSCI_CPU_ON64, 1, (u64)secondary_entry, 0x5a5a));
  while (!secondary_seen) {}
  report("cpu1 context", secondary_seen);
  u64 state;
  while ((state = psci(PSCI_AFFINITY_INFO64, 1, 0, 0)) != 0) {}
  report("AFFINITY_INFO cpu1 started", state);
  report("CPU_ON cpu1 again", psci(PSCI_CPU_ON64, 1, (u64)secondary_entry, 0));
  secondary_may_stop = 1;
  while ((state = psci(PSCI_AFFINITY_INFO64, 1, 0, 0)) != 1) {}
  report("AFFINITY_INFO cpu1 after CPU_OFF", state);

  /* CPU_SUSPEND (standby, StateID 0) with interrupts masked returns once the virtual timer's PPI 27 is pending. */
  MMIO32(GICR + 0x10000 + 0x80) |= 1u << 27;                    /* GICR_IGROUPR0: group 1 */
  *(volatile u8 *)(GICR + 0x10000 + 0x400 + 27) = 0x80;         /* GICR_IPRIORITYR */
  MMIO32(GICR + 0x10000 + 0x100) = 1u << 27;                    /* GICR_ISENABLER0 */
  SYSREG_WRITE("cntv_tval_el0", 20000);
  SYSREG_WRITE("cntv_ctl_el0", 1);
  report("CPU_SUSPEND standby", psci(PSCI_CPU_SUSPEND64, 0, 0, 0));
  report("  pending after wake-up", SYSREG_READ(ICC_HPPIR1_EL1));
  report("  timer ISTATUS", (SYSREG_READ("cntv_ctl_el0") >> 2) & 1);
  u64 intid = SYSREG_READ(ICC_IAR1_EL1);
  SYSREG_WRITE("cntv_ctl_el0", 0);
  SYSREG_WRITE(ICC_EOIR1_EL1, intid);
  report("  acknowledged", intid);
  report("CPU_SUSPEND power level 1", psci(PSCI_CPU_SUSPEND64, 1ul << 24, 0, 0));
}

/* --- GICv3 ITS ---------------------------------------------------------------------------------- */

static unsigned cwriter;

static void its_command(u64 d0, u64 d1, u64 d2, u64 d3) {
  volatile u64 *slot = (volatile u64 *)(command_queue + cwriter);
  slot[0] = d0;
  slot[1] = d1;
  slot[2] = d2;
  slot[3] = d3;
  asm volatile("dsb sy" ::: "memory");
  cwriter = (cwriter + 32) % sizeof command_queue;
  MMIO64(ITS + 0x88) = cwriter;
  while (MMIO64(ITS + 0x90) != cwriter) {}
}

#define DEV(d) ((u64)(d) << 32)
static void MAPD(u32 dev, unsigned size, void *table, int valid) { its_command(0x08 | DEV(dev), size, (valid ? 1ul << 63 : 0) | (u64)table, 0); }
static void MAPC(unsigned icid, unsigned rd) { its_command(0x09, 0, 1ul << 63 | (u64)rd << 16 | icid, 0); }
static void MAPTI(u32 dev, u32 ev, u32 lpi, unsigned icid) { its_command(0x0a | DEV(dev), (u64)lpi << 32 | ev, icid, 0); }
static void INV(u32 dev, u32 ev) { its_command(0x0c | DEV(dev), ev, 0, 0); }
static void INT(u32 dev, u32 ev) { its_command(0x03 | DEV(dev), ev, 0, 0); }
static void CLEAR(u32 dev, u32 ev) { its_command(0x04 | DEV(dev), ev, 0, 0); }
static void DISCARD(u32 dev, u32 ev) { its_command(0x0f | DEV(dev), ev, 0, 0); }
static void MOVI(u32 dev, u32 ev, unsigned icid) { its_command(0x01 | DEV(dev), ev, icid, 0); }
static void SYNC(unsigned rd) { its_command(0x05, 0, (u64)rd << 16, 0); }

static u64 ite_low(u8 *table, unsigned ev) { return *(volatile u32 *)(table + 12 * ev) | (u64) * (volatile u32 *)(table + 12 * ev + 4) << 32; }
static u64 ite_high(u8 *table, unsigned ev) { return *(volatile u32 *)(table + 12 * ev + 8); }

static u64 take_pending(void) {
  u64 intid = SYSREG_READ(ICC_HPPIR1_EL1);
  if (intid < 1020 || intid >= 8192) SYSREG_WRITE(ICC_EOIR1_EL1, SYSREG_READ(ICC_IAR1_EL1)); /* not 1020..1023 */
  return intid;
}

static void its_checks(void) {
  enum { DEV_A = 0x10, DEV_B = 0x1234, EVENT = 1, LPI = 8192 + 17 };
  report("GITS_TYPER", MMIO64(ITS + 0x8));
  for (int n = 0; n < 8; n++) {
    puts_raw("GITS_BASER");
    putchar_raw('0' + n);
    report("", MMIO64(ITS + 0x100 + 8 * n));
  }
  /* Distributor, redistributor, CPU interface and LPIs. */
  MMIO32(GICD) = 0x12; /* ARE, EnableGrp1 */
  while (MMIO32(GICD) & (1u << 31)) {}
  MMIO32(GICR + 0x14) &= ~2u; /* GICR_WAKER.ProcessorSleep */
  while (MMIO32(GICR + 0x14) & 4) {}
  SYSREG_WRITE(ICC_SRE_EL1, 7);
  SYSREG_WRITE(ICC_PMR_EL1, 0xff);
  SYSREG_WRITE(ICC_IGRPEN1_EL1, 1);
  property_table[LPI - 8192] = 0xa0 | 1;
  MMIO64(GICR + 0x70) = (u64)property_table | (14 - 1); /* GICR_PROPBASER: 14 INTID bits */
  MMIO64(GICR + 0x78) = (u64)pending_table;              /* GICR_PENDBASER */
  MMIO32(GICR) = 1;                                       /* EnableLPIs */

  /* Flat Device and Collection tables: one 64 KiB page each, Inner Shareable, write-back. */
  u64 attrs = 1ul << 63 | 5ul << 59 | 1ul << 10 | 2ul << 8;
  MMIO64(ITS + 0x100) = attrs | (u64)device_table;
  MMIO64(ITS + 0x108) = attrs | (u64)collection_table;
  report("GITS_BASER0 programmed", MMIO64(ITS + 0x100) - (u64)device_table);
  report("GITS_BASER1 programmed", MMIO64(ITS + 0x108) - (u64)collection_table);
  MMIO64(ITS + 0x80) = 1ul << 63 | (u64)command_queue; /* GITS_CBASER: one 4 KiB page */
  MMIO64(ITS + 0x88) = 0;
  MMIO32(ITS) = 1;
  report("GITS_CTLR", MMIO32(ITS));

  MAPC(0, 0);
  MAPC(1, 1);
  MAPD(DEV_A, 4, itt, 1);
  MAPTI(DEV_A, EVENT, LPI, 0);
  INV(DEV_A, EVENT);
  SYNC(0);
  report("DTE", *(volatile u64 *)(device_table + 8 * DEV_A) - ((u64)itt >> 8 << 6));
  report("CTE 0", *(volatile u64 *)(collection_table + 0));
  report("CTE 1", *(volatile u64 *)(collection_table + 8));
  report("ITE low", ite_low(itt, EVENT));
  report("ITE high", ite_high(itt, EVENT));
  report("pending before INT", SYSREG_READ(ICC_HPPIR1_EL1));
  INT(DEV_A, EVENT);
  SYNC(0);
  report("INT delivers", take_pending());
  report("then pending", SYSREG_READ(ICC_HPPIR1_EL1));

  MOVI(DEV_A, EVENT, 1);
  SYNC(1);
  report("ITE after MOVI", ite_low(itt, EVENT));
  INT(DEV_A, EVENT); /* pending on CPU 1 now, not here */
  report("INT on collection 1, here", SYSREG_READ(ICC_HPPIR1_EL1));
  CLEAR(DEV_A, EVENT);
  MOVI(DEV_A, EVENT, 0);
  INT(DEV_A, EVENT);
  SYNC(0);
  report("INT after MOVI back", take_pending());
  DISCARD(DEV_A, EVENT);
  SYNC(0);
  report("ITE after DISCARD", ite_low(itt, EVENT));
  INT(DEV_A, EVENT);
  SYNC(0);
  report("INT after DISCARD", SYSREG_READ(ICC_HPPIR1_EL1));
  MAPD(DEV_A, 4, itt, 0);
  SYNC(0);
  report("DTE after MAPD V=0", *(volatile u64 *)(device_table + 8 * DEV_A));

  /* An indirect Device table with 4 KiB pages: DEV_B needs level-1 descriptor DEV_B / 512. */
  MMIO32(ITS) = 0;
  while (!(MMIO32(ITS) & (1u << 31))) {}
  MMIO64(ITS + 0x100) = 1ul << 63 | 1ul << 62 | 5ul << 59 | 1ul << 10 | (u64)level1;
  report("GITS_BASER0 indirect", MMIO64(ITS + 0x100) - (u64)level1);
  MMIO32(ITS) = 1;
  MAPD(DEV_B, 0, itt2, 1);
  SYNC(0);
  report("level-2 entry, descriptor invalid", *(volatile u64 *)(level2 + 8 * (DEV_B % 512)));
  *(volatile u64 *)(level1 + 8 * (DEV_B / 512)) = 1ul << 63 | (u64)level2;
  MAPD(DEV_B, 0, itt2, 1);
  MAPTI(DEV_B, 0, LPI, 0);
  INT(DEV_B, 0);
  SYNC(0);
  report("level-2 entry", *(volatile u64 *)(level2 + 8 * (DEV_B % 512)) - ((u64)itt2 >> 8 << 6));
  report("INT through the indirect table", take_pending());
}

void main(void) {
  puts_raw("conformance: aarch64 GICv3 ITS and PSCI\n");
  its_checks();
  psci_checks();
  puts_raw("END\n");
  psci(PSCI_SYSTEM_OFF, 0, 0, 0);
}
