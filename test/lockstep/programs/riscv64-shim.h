/*
 * The M-mode shim both lockstep programs start with under QEMU (-bios none): every trap and
 * interrupt delegated to S, counters and all memory open to S and U, Sstc on; then mret to
 * s_entry, which clears the registers the shim and the loader leave differently.
 */
    .option norvc
    .option norelax                      /* alignment done by the assembler: we link with --no-relax */
    .section .text.boot, "ax"
    .globl _start
_start:                                  /* M-mode, QEMU only */
    lla     t0, s_entry
    csrw    mepc, t0
    li      t0, -1
    csrw    medeleg, t0
    csrw    mideleg, t0
    csrw    mcounteren, t0
    csrw    pmpaddr0, t0
    li      t0, 0x1f                     /* NAPOT, RWX: S and U see everything */
    csrw    pmpcfg0, t0
    li      t0, 1
    slli    t0, t0, 63                   /* menvcfg.STCE: stimecmp for S-mode */
    csrw    0x30a, t0
    li      t0, (1 << 11)                /* mstatus.MPP = S */
    csrw    mstatus, t0
    mret

    .globl s_entry
s_entry:                                 /* S-mode; a0/a1 and the shim's temporaries differ: clear all */
    li x1, 0; li x2, 0; li x3, 0; li x4, 0; li x5, 0; li x6, 0; li x7, 0; li x8, 0
    li x9, 0; li x10, 0; li x11, 0; li x12, 0; li x13, 0; li x14, 0; li x15, 0; li x16, 0
    li x17, 0; li x18, 0; li x19, 0; li x20, 0; li x21, 0; li x22, 0; li x23, 0; li x24, 0
    li x25, 0; li x26, 0; li x27, 0; li x28, 0; li x29, 0; li x30, 0; li x31, 0
    csrw    sie, zero
    csrw    sscratch, zero
