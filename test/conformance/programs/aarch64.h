/* What the aarch64 conformance programs share: the PL011 console, PSCI over HVC (QEMU virt's
 * conduit without EL2, and a zone's), the report on an unexpected exception, system registers. */
#ifndef AARCH64_H
#define AARCH64_H
#include "report.h"

#define UART 0x09000000UL
#define PSCI_CPU_ON64 0xc4000003UL
#define PSCI_SYSTEM_OFF 0x84000008UL

#define SYSREG_READ(name) ({ u64 v_; asm volatile("mrs %0, " name : "=r"(v_)); v_; })
#define SYSREG_WRITE(name, v) asm volatile("msr " name ", %0; isb" : : "r"((u64)(v)))
#define ICC_SRE_EL1 "S3_0_C12_C12_5"
#define ICC_PMR_EL1 "S3_0_C4_C6_0"
#define ICC_BPR1_EL1 "S3_0_C12_C12_3"
#define ICC_CTLR_EL1 "S3_0_C12_C12_4"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"
#define ICC_IAR1_EL1 "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1 "S3_0_C12_C12_1"
#define ICC_HPPIR1_EL1 "S3_0_C12_C12_2"
#define ICC_RPR_EL1 "S3_0_C12_C11_3"
#define ICC_DIR_EL1 "S3_0_C12_C11_1"
#define ICC_SGI1R_EL1 "S3_0_C12_C11_5"

void putchar_raw(char c) {
  while (MMIO32(UART + 0x18) & (1 << 5)) {}
  MMIO32(UART) = (u8)c;
}

static u64 psci(u64 fn, u64 a1, u64 a2, u64 a3) {
  register u64 x0 asm("x0") = fn;
  register u64 x1 asm("x1") = a1;
  register u64 x2 asm("x2") = a2;
  register u64 x3 asm("x3") = a3;
  asm volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory", "x4", "x5", "x6", "x7", "x8", "x9", "x10",
               "x11", "x12", "x13", "x14", "x15", "x16", "x17");
  return x0;
}

/* From the exception vectors (aarch64-start.S): report and power off, so both runs end. */
void unexpected_exception(u64 esr, u64 elr) {
  report("unexpected exception, ESR", esr);
  report("at", elr);
  psci(PSCI_SYSTEM_OFF, 0, 0, 0);
}

/* The entry a CPU_ON'd CPU starts at (it calls secondary_main(context)). */
extern char secondary_entry[];
#endif
