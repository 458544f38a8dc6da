// Entry of the riscv64 conformance programs in S-mode (a0 = hart id, a1 = opaque / dtb): a stack
// per role, then main(hartid) on the boot hart, secondary_main(hartid, opaque) on a started one and
// resumed_main(hartid, opaque) where a non-retentive suspend resumes.
  .section .text.boot
  .globl _start
_start:
  la sp, stack0_top
  la t0, trap
  csrw stvec, t0
  call main
1: wfi
  j 1b

  .globl secondary_entry
secondary_entry:
  la sp, stack1_top
  la t0, trap
  csrw stvec, t0
  call secondary_main
2: wfi
  j 2b

  .globl resume_entry
resume_entry:
  la sp, stack1_top
  call resumed_main
3: wfi
  j 3b

  .balign 4
trap:
  csrr a0, scause
  csrr a1, sepc
  csrr a2, stval
  call unexpected_trap
4: j 4b
