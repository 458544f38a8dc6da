/*
 * Conformance of an S-mode riscv64 zone's PLIC (RISC-V PLIC specification 1.0.0, its memory map),
 * driven by a real device: the 16550 UART's transmitter-empty interrupt (source 10 on QEMU virt).
 * Runs on QEMU virt with OpenSBI (one hart, S-mode context 1) and in an hvisor-ts zone owning the
 * UART and source 10; both print the same lines. Values are recorded first and printed at the end,
 * so the console (OpenSBI prints through the same UART) cannot disturb the interrupt under test.
 *
 * Priority 0 never interrupts; pending follows the device's level through the gateway; enable,
 * threshold (a source interrupts only above it) and sip.SEIP; claim returns the source and clears
 * pending; a level still high pends again only after completion; claim with nothing pending is 0.
 */
#include "riscv64.h"

#define PLIC 0x0c000000UL
#define UART 0x10000000UL
#define SOURCE 10
#define CONTEXT 1 /* hart 0, S-mode */
#define PRIORITY(s) MMIO32(PLIC + 4 * (s))
#define PENDING MMIO32(PLIC + 0x1000)
#define ENABLE MMIO32(PLIC + 0x2000 + 0x80 * CONTEXT)
#define THRESHOLD MMIO32(PLIC + 0x200000 + 0x1000 * CONTEXT)
#define CLAIM MMIO32(PLIC + 0x200004 + 0x1000 * CONTEXT)
#define UART_IER (*(volatile u8 *)(UART + 1))
#define UART_IIR (*(volatile u8 *)(UART + 2))

static struct { const char *label; u64 value; } results[64];
static unsigned count;
static void record(const char *label, u64 value) {
  if (count < sizeof results / sizeof results[0]) results[count++] = (typeof(results[0])){ label, value };
}

static u64 seip(void) {
  u64 sip;
  asm volatile("csrr %0, sip" : "=r"(sip));
  return (sip >> 9) & 1;
}

static u64 pending(void) { return (PENDING >> SOURCE) & 1; }

void main(void) {
  asm volatile("csrs sie, %0" : : "r"(1UL << 9)); /* SEIE: sip.SEIP is what the PLIC signals (sstatus.SIE stays 0) */
  THRESHOLD = 0;
  ENABLE = 0;
  PRIORITY(SOURCE) = 0;
  record("priority 0: pending", pending());
  UART_IER = 2; /* transmitter holding register empty: the UART raises its line */
  record("priority 0, line high: pending", pending());
  ENABLE = 1u << SOURCE;
  record("priority 0, enabled: SEIP", seip());
  record("priority 0, enabled: claim", CLAIM);
  PRIORITY(SOURCE) = 3;
  record("priority 3: priority register", PRIORITY(SOURCE));
  record("priority 3: pending", pending());
  record("priority 3: SEIP", seip());
  THRESHOLD = 3;
  record("threshold 3: SEIP", seip());
  THRESHOLD = 2;
  record("threshold 2: SEIP", seip());
  ENABLE = 0;
  record("disabled: SEIP", seip());
  record("disabled: pending", pending());
  ENABLE = 1u << SOURCE;
  u32 id = CLAIM;
  record("claim", id);
  record("after claim: pending", pending());
  record("after claim: SEIP", seip());
  record("claim again", CLAIM);
  CLAIM = id; /* complete: the line is still high, so it pends again */
  record("after complete: pending", pending());
  record("after complete: SEIP", seip());
  id = CLAIM;
  record("claim while the line is high", id);
  UART_IER = 0; /* the line drops */
  CLAIM = id;
  record("line low, completed: pending", pending());
  record("line low, completed: SEIP", seip());
  record("line low: claim", CLAIM);
  record("UART IIR", UART_IIR & 0xf);

  puts_raw("conformance: riscv64 PLIC\n");
  for (unsigned i = 0; i < count; i++) report(results[i].label, results[i].value);
  puts_raw("END\n");
  shutdown(0);
}

/* The HSM program's entry points, unused here. */
void secondary_main(void) {}
void resumed_main(void) {}
