/*
 * Conformance of an aarch64 zone's GICv2 (Arm IHI 0048B: distributor and CPU interface register
 * tables), written from the specification, not from what Linux touches. Runs at EL1 on QEMU virt
 * (gic-version=2) and in an hvisor-ts zone of the GICv2 virt board on CPUs 0 and 1: same lines.
 *
 * Identification and reset values, SGIs to self and to the other CPU (source CPU in GICC_IAR),
 * active state, priority masking by GICC_PMR, preemption and the running priority, a
 * software-pended SPI routed by GICD_ITARGETSR, and a disabled SPI that stays pending.
 */
#include "aarch64.h"

#define GICD 0x08000000UL
#define GICC 0x08010000UL
#define D_CTLR 0x000
#define D_TYPER 0x004
#define D_IIDR 0x008
#define D_ISENABLER 0x100
#define D_ICENABLER 0x180
#define D_ISPENDR 0x200
#define D_ICPENDR 0x280
#define D_ISACTIVER 0x300
#define D_IPRIORITYR 0x400
#define D_ITARGETSR 0x800
#define D_ICFGR 0xc00
#define D_SGIR 0xf00
#define D_SPENDSGIR 0xf20
#define C_CTLR 0x00
#define C_PMR 0x04
#define C_BPR 0x08
#define C_IAR 0x0c
#define C_EOIR 0x10
#define C_RPR 0x14
#define C_HPPIR 0x18
#define C_IIDR 0xfc

#define D(off) MMIO32(GICD + (off))
#define C(off) MMIO32(GICC + (off))
static void priority(unsigned id, u8 p) { *(volatile u8 *)(GICD + D_IPRIORITYR + id) = p; }
static void sgi(unsigned filter, unsigned targets, unsigned id) { D(D_SGIR) = filter << 24 | targets << 16 | id; }

static volatile u64 cpu1_ready, cpu1_got, cpu1_itargets, cpu1_isenabler;

/* CPU 1: its own (banked) view, then one SGI from CPU 0, answered by one to CPU 0. */
void secondary_main(u64 context) {
  (void)context;
  cpu1_itargets = D(D_ITARGETSR);
  cpu1_isenabler = D(D_ISENABLER);
  priority(9, 0xa0);
  C(C_PMR) = 0xf0;
  C(C_CTLR) = 1;
  cpu1_ready = 1;
  u32 iar;
  while (((iar = C(C_IAR)) & 0x3ff) == 1023) {}
  C(C_EOIR) = iar;
  cpu1_got = iar;
  sgi(0, 1, 10); /* to CPU 0 */
  for (;;) asm volatile("wfi");
}

static void take(const char *label) {
  u32 iar = C(C_IAR);
  report(label, iar);
  if ((iar & 0x3ff) < 1020) C(C_EOIR) = iar;
}

void main(void) {
  puts_raw("conformance: aarch64 GICv2\n");
  report("GICD_CTLR", D(D_CTLR));
  report("GICD_TYPER", D(D_TYPER));
  report("GICD_IIDR", D(D_IIDR));
  report("GICC_IIDR", C(C_IIDR));
  report("GICD_ISENABLER0", D(D_ISENABLER));
  report("GICD_ITARGETSR0", D(D_ITARGETSR));
  report("GICD_ITARGETSR8 (SPI 32..35)", D(D_ITARGETSR + 32));
  report("GICD_ICFGR0", D(D_ICFGR));
  report("GICC_PMR", C(C_PMR));
  report("GICC_HPPIR idle", C(C_HPPIR));

  D(D_CTLR) = 1;
  C(C_PMR) = 0xf0;
  C(C_BPR) = 0;
  C(C_CTLR) = 1;
  report("GICC_RPR idle", C(C_RPR));

  /* An SGI to this CPU: pending with its source, then active while being handled. */
  priority(5, 0xa0);
  sgi(2, 0, 5);
  report("SGI 5 GICD_SPENDSGIR1", D(D_SPENDSGIR + 4));
  report("SGI 5 GICC_HPPIR", C(C_HPPIR));
  u32 iar = C(C_IAR);
  report("SGI 5 GICC_IAR", iar);
  report("  GICD_ISACTIVER0", D(D_ISACTIVER));
  report("  GICC_RPR", C(C_RPR));
  report("  GICD_SPENDSGIR1", D(D_SPENDSGIR + 4));
  C(C_EOIR) = iar;
  report("  after EOI GICD_ISACTIVER0", D(D_ISACTIVER));
  report("  after EOI GICC_RPR", C(C_RPR));

  /* At the priority mask nothing is signalled (only higher priorities are); raising the mask lets it
   * through. 0xf0 is a priority every implementation has (at least 4 priority bits). */
  priority(6, 0xf0);
  sgi(2, 0, 6);
  take("SGI 6 masked GICC_IAR");
  C(C_PMR) = 0xff;
  take("SGI 6 unmasked GICC_IAR");
  C(C_PMR) = 0xf0;

  /* Preemption: a higher priority SGI is acknowledged while a lower one is active. */
  priority(7, 0x80);
  priority(8, 0x40);
  sgi(2, 0, 7);
  u32 low = C(C_IAR);
  sgi(2, 0, 8);
  u32 high = C(C_IAR);
  report("nested: first", low);
  report("nested: second", high);
  report("nested: GICC_RPR", C(C_RPR));
  report("nested: GICD_ISACTIVER0", D(D_ISACTIVER));
  C(C_EOIR) = high;
  report("nested: GICC_RPR after inner EOI", C(C_RPR));
  C(C_EOIR) = low;

  /* A software-pended SPI routed to this CPU. */
  *(volatile u8 *)(GICD + D_ITARGETSR + 33) = 1;
  priority(33, 0xa0);
  D(D_ISENABLER + 4) = 1u << 1;
  D(D_ISPENDR + 4) = 1u << 1;
  report("SPI 33 GICD_ISPENDR1", D(D_ISPENDR + 4));
  take("SPI 33 GICC_IAR");
  report("SPI 33 GICD_ISPENDR1 after IAR", D(D_ISPENDR + 4));
  D(D_ICENABLER + 4) = 1u << 1;
  D(D_ISPENDR + 4) = 1u << 1;
  report("SPI 33 disabled: GICC_HPPIR", C(C_HPPIR));
  report("SPI 33 disabled: GICD_ISPENDR1", D(D_ISPENDR + 4));
  D(D_ICPENDR + 4) = 1u << 1;
  report("SPI 33 after ICPENDR", D(D_ISPENDR + 4));

  /* CPU 1: its banked registers, an SGI there and one back (the source CPU is in GICC_IAR). */
  priority(10, 0xa0);
  report("CPU_ON cpu1", psci(PSCI_CPU_ON64, 1, (u64)secondary_entry, 0));
  while (!cpu1_ready) {}
  report("cpu1 GICD_ITARGETSR0", cpu1_itargets);
  report("cpu1 GICD_ISENABLER0", cpu1_isenabler);
  sgi(0, 2, 9);
  while (!cpu1_got) {}
  report("cpu1 GICC_IAR", cpu1_got);
  while ((C(C_HPPIR) & 0x3ff) == 1023) {}
  take("SGI 10 from cpu1 GICC_IAR");
  puts_raw("END\n");
  psci(PSCI_SYSTEM_OFF, 0, 0, 0);
}
