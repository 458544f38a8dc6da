// Entry of the aarch64 conformance programs at EL1: a stack per CPU, exception vectors that report
// and power off, then main() on the boot CPU and secondary_main(context) on a CPU_ON'd one.
  .section .text.boot
  .globl _start
_start:
  msr daifset, #0xf
  ldr x1, =stack0_top
  mov sp, x1
  adr x1, vectors
  msr vbar_el1, x1
  isb
  bl main
1: wfi
  b 1b

  .globl secondary_entry
secondary_entry:
  msr daifset, #0xf
  ldr x1, =stack1_top
  mov sp, x1
  adr x1, vectors
  msr vbar_el1, x1
  isb
  bl secondary_main
2: wfi
  b 2b

  .balign 2048
vectors:
  .rept 16
  .balign 128
  mrs x0, esr_el1
  mrs x1, elr_el1
  b unexpected_exception
  .endr
  .ltorg
