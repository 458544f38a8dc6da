/* What the riscv64 conformance programs share: SBI calls, the SBI console, shutdown, and the
 * report on an unexpected trap. */
#ifndef RISCV64_H
#define RISCV64_H
#include "report.h"

#define SBI_EXT_BASE 0x10
#define SBI_EXT_IPI 0x735049
#define SBI_EXT_HSM 0x48534d
#define SBI_EXT_SRST 0x53525354

struct sbiret { long error; long value; };

static struct sbiret sbi(u64 ext, u64 fid, u64 a0, u64 a1, u64 a2) {
  register u64 r0 asm("a0") = a0;
  register u64 r1 asm("a1") = a1;
  register u64 r2 asm("a2") = a2;
  register u64 r6 asm("a6") = fid;
  register u64 r7 asm("a7") = ext;
  asm volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r6), "r"(r7) : "memory");
  return (struct sbiret){ (long)r0, (long)r1 };
}

void putchar_raw(char c) {
  register u64 r0 asm("a0") = (u8)c;
  register u64 r7 asm("a7") = 1; /* legacy console_putchar */
  asm volatile("ecall" : "+r"(r0) : "r"(r7) : "memory", "a1");
}

/* SRST system_reset: shutdown, reason 0 (none) or 1 (system failure). */
static void shutdown(u64 failure) { sbi(SBI_EXT_SRST, 0, 0, failure, 0); }

/* From stvec (riscv64-start.S): report and shut down with a failure, so both runs end. */
void unexpected_trap(u64 cause, u64 epc, u64 tval) {
  report("unexpected trap, scause", cause);
  report("sepc", epc);
  report("stval", tval);
  shutdown(1);
}
#endif
