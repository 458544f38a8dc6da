/*
 * Conformance of an S-mode riscv64 zone's SBI (RISC-V SBI specification v2.0, written from its
 * call tables), with the HSM states seen from another hart. Runs on QEMU virt with OpenSBI (two harts)
 * and in an hvisor-ts zone on harts 0 and 1; both print the same lines.
 *
 *  - Base: spec version at least 1.0, probe_extension of the extensions a supervisor needs.
 *  - HSM: hart_get_status of both harts and of a hart that does not exist, hart_start (and again:
 *    ALREADY_AVAILABLE), hart_suspend argument errors, then the other hart suspends retentively and
 *    non-retentively while the boot hart watches its status go SUSPENDED and wakes it with an IPI: the
 *    retentive call returns SUCCESS with the hart's registers kept; the non-retentive one resumes
 *    at resume_addr in S-mode with a0 = hart id, a1 = opaque, satp = 0 and sstatus.SIE = 0.
 */
#include "riscv64.h"

#define SUSPEND_RETENTIVE 0x00000000UL
#define SUSPEND_NON_RETENTIVE 0x80000000UL
/* Memory S-mode may not execute: OpenSBI's own on QEMU virt, outside the zone's RAM in the zone. */
#define FIRMWARE 0x80000000UL

static long status_of(u64 hart) { return sbi(SBI_EXT_HSM, 2, hart, 0, 0).value; }

static void report_ret(const char *label, struct sbiret r) {
  puts_raw(label);
  report(" error", (u64)r.error);
}

/* What the other hart records for the boot hart to print. */
static volatile u64 started_hartid, started_opaque, started, may_suspend;
static volatile u64 retentive_error, retentive_kept, retentive_done;
static volatile u64 resumed_hartid, resumed_opaque, resumed_satp, resumed_sie, resumed_done;

extern char secondary_entry[], resume_entry[];

void secondary_main(u64 hartid, u64 opaque) {
  started_hartid = hartid;
  started_opaque = opaque;
  asm volatile("csrs sie, %0" : : "r"(2UL)); /* SSIE: an IPI wakes the hart (sstatus.SIE stays 0) */
  started = 1;
  while (!may_suspend) {}
  register u64 kept asm("s2") = 0x5eed;
  struct sbiret r = sbi(SBI_EXT_HSM, 3, SUSPEND_RETENTIVE, 0, 0);
  asm volatile("" : "+r"(kept));
  asm volatile("csrc sip, %0" : : "r"(2UL));
  retentive_error = (u64)r.error;
  retentive_kept = kept;
  retentive_done = 1;
  sbi(SBI_EXT_HSM, 3, SUSPEND_NON_RETENTIVE, (u64)resume_entry, 0x99);
  report("non-retentive suspend returned", 1);
}

void resumed_main(u64 hartid, u64 opaque) {
  u64 satp, sstatus;
  asm volatile("csrr %0, satp" : "=r"(satp));
  asm volatile("csrr %0, sstatus" : "=r"(sstatus));
  asm volatile("csrc sip, %0" : : "r"(2UL));
  resumed_hartid = hartid;
  resumed_opaque = opaque;
  resumed_satp = satp;
  resumed_sie = (sstatus >> 1) & 1;
  resumed_done = 1;
  sbi(SBI_EXT_HSM, 1, 0, 0, 0); /* hart_stop */
}

static void wait_status(u64 hart, long want) {
  while (status_of(hart) != want) {}
}

void main(u64 hartid) {
  puts_raw("conformance: riscv64 SBI HSM\n");
  /* OpenSBI boots whichever hart wins its lottery: the checks name the boot hart and the other one. */
  u64 other = hartid ^ 1;
  report("spec version >= 1.0", (u64)sbi(SBI_EXT_BASE, 0, 0, 0, 0).value >= 0x01000000UL);
  report("probe HSM", (u64)sbi(SBI_EXT_BASE, 3, SBI_EXT_HSM, 0, 0).value);
  report("probe IPI", (u64)sbi(SBI_EXT_BASE, 3, SBI_EXT_IPI, 0, 0).value);
  report("probe SRST", (u64)sbi(SBI_EXT_BASE, 3, SBI_EXT_SRST, 0, 0).value);
  report("status boot hart", (u64)status_of(hartid));
  report("status other hart", (u64)status_of(other));
  report_ret("status hart 7", sbi(SBI_EXT_HSM, 2, 7, 0, 0));
  report_ret("hart_suspend type 1 (reserved)", sbi(SBI_EXT_HSM, 3, 1, 0, 0));
  report_ret("hart_suspend type 0x80000001 (reserved)", sbi(SBI_EXT_HSM, 3, 0x80000001UL, 0, 0));
  report_ret("hart_suspend type 0x10000000 (platform)", sbi(SBI_EXT_HSM, 3, 0x10000000UL, 0, 0));
  report_ret("hart_suspend type 0x90000000 (platform)", sbi(SBI_EXT_HSM, 3, 0x90000000UL, (u64)resume_entry, 0));
  report_ret("non-retentive hart_suspend to firmware memory", sbi(SBI_EXT_HSM, 3, SUSPEND_NON_RETENTIVE, FIRMWARE, 0));
  report_ret("hart_start hart 7", sbi(SBI_EXT_HSM, 0, 7, (u64)secondary_entry, 0));

  report_ret("hart_start other", sbi(SBI_EXT_HSM, 0, other, (u64)secondary_entry, 0x77));
  while (!started) {}
  report("other's a0 is its hart id", started_hartid == other);
  report("other's a1", started_opaque);
  report_ret("hart_start other again", sbi(SBI_EXT_HSM, 0, other, (u64)secondary_entry, 0));
  may_suspend = 1;

  wait_status(other, 4);
  report("retentive: status other", (u64)status_of(other));
  report_ret("ipi other", sbi(SBI_EXT_IPI, 0, 1UL << other, 0, 0));
  while (!retentive_done) {}
  report("retentive: returned", retentive_error);
  report("retentive: s2 kept", retentive_kept);

  wait_status(other, 4);
  report("non-retentive: status other", (u64)status_of(other));
  report_ret("ipi other", sbi(SBI_EXT_IPI, 0, 1UL << other, 0, 0));
  while (!resumed_done) {}
  report("non-retentive: a0 is the hart id", resumed_hartid == other);
  report("non-retentive: a1", resumed_opaque);
  report("non-retentive: satp", resumed_satp);
  report("non-retentive: sstatus.SIE", resumed_sie);
  wait_status(other, 1);
  report("after hart_stop: status other", (u64)status_of(other));
  puts_raw("END\n");
  shutdown(0);
}
