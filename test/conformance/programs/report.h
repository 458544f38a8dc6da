/* Printing for the bare-metal conformance programs: one "label value" line per check, so a run on
 * hvisor-ts and a run on QEMU can be compared line by line. The program supplies putchar_raw(). */
#ifndef REPORT_H
#define REPORT_H
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

void putchar_raw(char c);

static void puts_raw(const char *s) {
  while (*s) putchar_raw(*s++);
}

static void put_hex(u64 v) {
  puts_raw("0x");
  int started = 0;
  for (int shift = 60; shift >= 0; shift -= 4) {
    unsigned d = (v >> shift) & 0xf;
    if (d || started || shift == 0) {
      putchar_raw("0123456789abcdef"[d]);
      started = 1;
    }
  }
}

/* "label value\n" */
static void report(const char *label, u64 value) {
  puts_raw(label);
  putchar_raw(' ');
  put_hex(value);
  putchar_raw('\n');
}

#define MMIO32(a) (*(volatile u32 *)(u64)(a))
#define MMIO64(a) (*(volatile u64 *)(u64)(a))
#endif
