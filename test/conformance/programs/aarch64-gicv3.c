/*
 * Conformance of an aarch64 zone's GICv3 distributor, redistributors and CPU interface (Arm IHI
 * 0069: register tables, ICC_* system registers), on a zone that also has an ITS. Runs at EL1 on
 * QEMU virt (gic-version=3) and in an hvisor-ts zone of the same board on CPUs 0 and 1: same lines.
 *
 * SGIs by ICC_SGI1R_EL1 to self and to the other CPU, active state, priority mask and preemption
 * with the running priority, EOImode = 1 (ICC_EOIR1 drops the priority, ICC_DIR deactivates), a
 * software-pended SPI routed by GICD_IROUTER, and a disabled SPI that stays pending.
 */
#include "aarch64.h"

#define GICD 0x08000000UL
#define GICR0 0x080a0000UL
#define GICR1 (GICR0 + 0x20000)
#define SGI_BASE 0x10000

#define D(off) MMIO32(GICD + (off))
#define R(rd, off) MMIO32((rd) + SGI_BASE + (off))

static void cpu_interface_on(u64 rd) {
  MMIO32(rd + 0x14) &= ~2u; /* GICR_WAKER.ProcessorSleep */
  while (MMIO32(rd + 0x14) & 4) {}
  R(rd, 0x80) = 0xffffffff; /* GICR_IGROUPR0: SGIs and PPIs in group 1 */
  SYSREG_WRITE(ICC_SRE_EL1, 7);
  SYSREG_WRITE(ICC_PMR_EL1, 0xf0);
  SYSREG_WRITE(ICC_BPR1_EL1, 0);
  SYSREG_WRITE(ICC_IGRPEN1_EL1, 1);
}

static void sgi_priority(u64 rd, unsigned id, u8 p) { *(volatile u8 *)(rd + SGI_BASE + 0x400 + id) = p; }
/* ICC_SGI1R_EL1: INTID 27:24, target list 15:0 (Aff3..1 = 0). */
static void sgi(unsigned id, unsigned targets) { SYSREG_WRITE(ICC_SGI1R_EL1, (u64)id << 24 | targets); }

static volatile u64 cpu1_ready, cpu1_got;

void secondary_main(u64 context) {
  (void)context;
  cpu_interface_on(GICR1);
  sgi_priority(GICR1, 9, 0xa0);
  R(GICR1, 0x100) = 1u << 9;
  cpu1_ready = 1;
  u64 iar;
  while ((iar = SYSREG_READ(ICC_IAR1_EL1)) == 1023) {}
  SYSREG_WRITE(ICC_EOIR1_EL1, iar);
  cpu1_got = iar;
  sgi(10, 1); /* to CPU 0 */
  for (;;) asm volatile("wfi");
}

static void take(const char *label) {
  u64 iar = SYSREG_READ(ICC_IAR1_EL1);
  report(label, iar);
  if (iar < 1020) SYSREG_WRITE(ICC_EOIR1_EL1, iar);
}

void main(void) {
  puts_raw("conformance: aarch64 GICv3\n");
  report("GICD_CTLR", D(0));
  report("GICD_TYPER.ITLinesNumber", D(4) & 0x1f);
  report("GICD_TYPER.LPIS", (D(4) >> 17) & 1);
  report("GICR_TYPER affinity cpu0", MMIO64(GICR0 + 8) >> 32);
  report("GICR_TYPER affinity cpu1", MMIO64(GICR1 + 8) >> 32);
  report("GICR_WAKER", MMIO32(GICR0 + 0x14));
  report("GICR_ISENABLER0", R(GICR0, 0x100));
  report("GICR_ICFGR0", R(GICR0, 0xc00));

  D(0) = 0x12; /* ARE, EnableGrp1 */
  while (D(0) & (1u << 31)) {}
  cpu_interface_on(GICR0);
  report("ICC_HPPIR1 idle", SYSREG_READ(ICC_HPPIR1_EL1));
  report("ICC_RPR idle", SYSREG_READ(ICC_RPR_EL1));

  /* An SGI to this CPU: pending, then active while being handled. */
  sgi_priority(GICR0, 5, 0xa0);
  R(GICR0, 0x100) = 0xffff;
  sgi(5, 1);
  report("SGI 5 GICR_ISPENDR0", R(GICR0, 0x200));
  report("SGI 5 ICC_HPPIR1", SYSREG_READ(ICC_HPPIR1_EL1));
  u64 iar = SYSREG_READ(ICC_IAR1_EL1);
  report("SGI 5 ICC_IAR1", iar);
  report("  GICR_ISACTIVER0", R(GICR0, 0x300));
  report("  ICC_RPR", SYSREG_READ(ICC_RPR_EL1));
  SYSREG_WRITE(ICC_EOIR1_EL1, iar);
  report("  after EOI GICR_ISACTIVER0", R(GICR0, 0x300));
  report("  after EOI ICC_RPR", SYSREG_READ(ICC_RPR_EL1));

  /* A disabled SGI stays pending and is not signalled. */
  R(GICR0, 0x180) = 1u << 4;
  sgi(4, 1);
  report("disabled SGI 4 ICC_HPPIR1", SYSREG_READ(ICC_HPPIR1_EL1));
  report("disabled SGI 4 GICR_ISPENDR0", R(GICR0, 0x200));
  R(GICR0, 0x100) = 1u << 4;
  take("enabled SGI 4 ICC_IAR1");

  /* At the priority mask nothing is signalled; raising the mask lets it through. */
  sgi_priority(GICR0, 6, 0xf0);
  sgi(6, 1);
  take("SGI 6 masked ICC_IAR1");
  SYSREG_WRITE(ICC_PMR_EL1, 0xff);
  take("SGI 6 unmasked ICC_IAR1");
  SYSREG_WRITE(ICC_PMR_EL1, 0xf0);

  /* Preemption and the running priority. */
  sgi_priority(GICR0, 7, 0x80);
  sgi_priority(GICR0, 8, 0x40);
  sgi(7, 1);
  u64 low = SYSREG_READ(ICC_IAR1_EL1);
  sgi(8, 1);
  u64 high = SYSREG_READ(ICC_IAR1_EL1);
  report("nested: first", low);
  report("nested: second", high);
  report("nested: ICC_RPR", SYSREG_READ(ICC_RPR_EL1));
  report("nested: GICR_ISACTIVER0", R(GICR0, 0x300));
  SYSREG_WRITE(ICC_EOIR1_EL1, high);
  report("nested: ICC_RPR after inner EOI", SYSREG_READ(ICC_RPR_EL1));
  SYSREG_WRITE(ICC_EOIR1_EL1, low);

  /* EOImode = 1: EOIR only drops the running priority, DIR deactivates. */
  SYSREG_WRITE(ICC_CTLR_EL1, SYSREG_READ(ICC_CTLR_EL1) | 2);
  sgi(5, 1);
  iar = SYSREG_READ(ICC_IAR1_EL1);
  SYSREG_WRITE(ICC_EOIR1_EL1, iar);
  report("EOImode 1: after EOIR ICC_RPR", SYSREG_READ(ICC_RPR_EL1));
  report("EOImode 1: after EOIR GICR_ISACTIVER0", R(GICR0, 0x300));
  sgi(5, 1);
  report("EOImode 1: SGI 5 again while active, ICC_HPPIR1", SYSREG_READ(ICC_HPPIR1_EL1));
  SYSREG_WRITE(ICC_DIR_EL1, iar);
  report("EOImode 1: after DIR GICR_ISACTIVER0", R(GICR0, 0x300));
  take("EOImode 1: SGI 5 again ICC_IAR1");
  SYSREG_WRITE(ICC_DIR_EL1, 5);
  SYSREG_WRITE(ICC_CTLR_EL1, SYSREG_READ(ICC_CTLR_EL1) & ~2ul);

  /* A software-pended SPI routed to this CPU by GICD_IROUTER. */
  MMIO64(GICD + 0x6000 + 8 * 33) = 0;
  D(0x80 + 4) = 0xffffffff; /* GICD_IGROUPR1: group 1 */
  *(volatile u8 *)(GICD + 0x400 + 33) = 0xa0;
  D(0x100 + 4) = 1u << 1;
  D(0x200 + 4) = 1u << 1;
  report("SPI 33 GICD_ISPENDR1", D(0x200 + 4));
  take("SPI 33 ICC_IAR1");
  report("SPI 33 GICD_ISPENDR1 after IAR", D(0x200 + 4));
  D(0x180 + 4) = 1u << 1;
  D(0x200 + 4) = 1u << 1;
  report("SPI 33 disabled: ICC_HPPIR1", SYSREG_READ(ICC_HPPIR1_EL1));
  report("SPI 33 disabled: GICD_ISPENDR1", D(0x200 + 4));
  D(0x280 + 4) = 1u << 1;
  report("SPI 33 after ICPENDR", D(0x200 + 4));

  /* CPU 1: an SGI there and one back. */
  sgi_priority(GICR0, 10, 0xa0);
  report("CPU_ON cpu1", psci(PSCI_CPU_ON64, 1, (u64)secondary_entry, 0));
  while (!cpu1_ready) {}
  sgi(9, 2);
  while (!cpu1_got) {}
  report("cpu1 ICC_IAR1", cpu1_got);
  while (SYSREG_READ(ICC_HPPIR1_EL1) == 1023) {}
  take("SGI 10 from cpu1 ICC_IAR1");
  puts_raw("END\n");
  psci(PSCI_SYSTEM_OFF, 0, 0, 0);
}
