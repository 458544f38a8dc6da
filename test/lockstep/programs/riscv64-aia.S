/*
 * riscv64 AIA lockstep program (QEMU `-M virt,aia=aplic-imsic`): the S-level interrupt file of
 * hart 0 through siselect / sireg (eidelivery, eithreshold, eip/eie, an odd eip that RV64
 * lacks), stopei reads and claims, stopi with SEI (and SSI) pending, and MSIs written to the hart's
 * own doorbell taken as supervisor external interrupts. QEMU starts it in M-mode at _start; the
 * shim hands the hart to S-mode. Compared from `compare_start` on.
 */
#define FINISHER 0x100000
#define IMSIC_S  0x28000000
#define SISELECT 0x150
#define SIREG    0x151
#define STOPEI   0x15c
#define STOPI    0xdb0

#include "riscv64-shim.h"
    li      t0, 0xc0122                  /* SIE, SPIE, SPP, SUM, MXR */
    csrc    sstatus, t0
    .globl compare_start
compare_start:
    lla     t0, trap
    csrw    stvec, t0
    li      s0, IMSIC_S
    li      t0, 0x70                     /* eidelivery */
    csrw    SISELECT, t0
    csrr    a0, SIREG
    li      t1, 1
    csrw    SIREG, t1
    csrr    a0, SIREG
    csrr    a1, SISELECT
    li      t0, 0x72                     /* eithreshold = 16 */
    csrw    SISELECT, t0
    li      t1, 16
    csrw    SIREG, t1
    csrr    a1, SIREG
    li      t0, 0xc0                     /* eie0: all */
    csrw    SISELECT, t0
    li      t1, -1
    csrw    SIREG, t1
    csrr    a2, SIREG
    li      t0, 0xc2                     /* eie2: identities 64..127 */
    csrw    SISELECT, t0
    li      t1, 0x0f0f
    csrw    SIREG, t1
    csrs    SIREG, 0x10
    csrr    a3, SIREG
    li      t0, 0xc6                     /* eie6: identities 192..255 */
    csrw    SISELECT, t0
    li      t1, -1
    csrw    SIREG, t1
    csrr    a3, SIREG
    li      t0, 0x81                     /* eip1: RV64 has no odd ones (illegal instruction) */
    csrw    SISELECT, t0
    li      a4, 0x55
    csrr    a4, SIREG
    li      t0, 0x80
    csrw    SISELECT, t0
    csrr    a5, STOPEI                   /* nothing pending */
    li      t1, 20                       /* above the threshold */
    sw      t1, 0(s0)
    li      t1, 9
    sw      t1, 0(s0)
    li      t1, 3
    sw      t1, 0(s0)
    li      t1, 68
    sw      t1, 0(s0)
    csrr    a5, SIREG                    /* eip0 */
    csrr    a6, STOPEI
    csrr    a7, STOPI                    /* sie.SEIE clear: nothing */
    li      t0, 0x200
    csrs    sie, t0
    csrr    a7, STOPI
    csrrw   s1, STOPEI, zero             /* claims 3 */
    csrr    s2, STOPEI
    csrr    s3, SIREG
    li      t0, 2                        /* SSIP as well: SEI still first */
    csrs    sie, t0
    csrs    sip, t0
    csrr    s4, STOPI
    li      t0, 0x200
    csrc    sie, t0
    /* SSI alone is not read: QEMU's stopi gives its non-zero default siprio (0x14), ours the
       read-only-zero iprio array's 255 for an interrupt below SEI (the iprio array is not compared). */
    csrc    sip, 2
    csrs    sie, t0
    li      t0, 0x72                     /* threshold 0: 20 and 68 become eligible too */
    csrw    SISELECT, t0
    csrw    SIREG, zero
    li      s6, 0
    csrsi   sstatus, 2                   /* taken now: the handler claims one identity per entry */
    nop
    nop
    csrci   sstatus, 2
    li      t0, 0x80
    csrw    SISELECT, t0
    csrr    s7, SIREG
    csrr    s8, STOPEI
    li      t0, 0x70                     /* eidelivery off: a new MSI pends, but no interrupt */
    csrw    SISELECT, t0
    csrw    SIREG, zero
    li      t1, 5
    sw      t1, 0(s0)
    csrr    s9, STOPI
    csrr    s10, STOPEI
    li      t0, FINISHER
    li      t1, 0x5555
    sw      t1, 0(t0)
1:  j       1b

    .balign 4
trap:
    csrr    t0, scause
    bltz    t0, 2f
    csrr    t0, sepc                     /* illegal instruction: skip it */
    addi    t0, t0, 4
    csrw    sepc, t0
    sret
2:  csrrw   t0, STOPEI, zero
    srli    t0, t0, 16
    add     s6, s6, t0
    sret
