/*
 * riscv64 lockstep program: every instruction class a kernel uses, in S and U mode, with Sv39
 * translation on, traps (ecall, illegal instruction, breakpoint, page faults) and interrupts
 * (software, Sstc timer). QEMU starts it in M-mode at _start; the M-mode shim only hands the hart
 * to S-mode. hvisor-ts starts the S-mode part directly (as a zone's vCPU). Both are compared from
 * `compare_start` on, after every instruction or trap entry.
 */
#define ITERATIONS 6000
#define SSTATUS_SIE  (1 << 1)
#define SSTATUS_SPP  (1 << 8)
#define SSTATUS_FS   (3 << 13)
#define SSTATUS_SUM  (1 << 18)
#define PTE_V 1
#define PTE_R 2
#define PTE_W 4
#define PTE_X 8
#define PTE_U 16
#define PTE_A 64
#define PTE_D 128
#define UVA      0x40000000              /* U-mode code page */
#define UDATA_VA 0x40001000              /* U-mode data page */
#define HOLE_VA  0x40002000              /* unmapped: page faults */
#define FINISHER 0x100000
#define CSR_STIMECMP 0x14d

#include "riscv64-shim.h"
    li      t0, SSTATUS_FS | SSTATUS_SIE | SSTATUS_SUM | SSTATUS_SPP | (1 << 5) | (1 << 19)
    csrc    sstatus, t0
    li      t0, (1 << 13)                /* FS = Initial */
    csrs    sstatus, t0
    fcvt.d.l f0, zero; fmv.d f1, f0; fmv.d f2, f0; fmv.d f3, f0; fmv.d f4, f0; fmv.d f5, f0
    fmv.d f6, f0; fmv.d f7, f0; fmv.d f8, f0; fmv.d f9, f0; fmv.d f10, f0; fmv.d f11, f0
    fmv.d f12, f0; fmv.d f13, f0; fmv.d f14, f0; fmv.d f15, f0; fmv.d f16, f0; fmv.d f17, f0
    fmv.d f18, f0; fmv.d f19, f0; fmv.d f20, f0; fmv.d f21, f0; fmv.d f22, f0; fmv.d f23, f0
    fmv.d f24, f0; fmv.d f25, f0; fmv.d f26, f0; fmv.d f27, f0; fmv.d f28, f0; fmv.d f29, f0
    fmv.d f30, f0; fmv.d f31, f0
    csrw    fcsr, zero
    .globl compare_start
compare_start:
    lla     sp, stack_top
    lla     t0, trap_stack_top
    csrw    sscratch, t0
    lla     t0, trap_entry
    csrw    stvec, t0

    /* Sv39: root[0] = 1 GiB identity (devices, RW), root[1] -> L1u -> L0u (U pages),
       root[2] -> L1 with 2 MiB RWX megapages over the first 16 MiB of RAM. */
    lla     s0, pt_root
    li      t0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    sd      t0, 0(s0)
    lla     t0, pt_l1u
    call    table_pte
    sd      t0, 8(s0)
    lla     t0, pt_l1
    call    table_pte
    sd      t0, 16(s0)
    lla     s1, pt_l1
    li      t1, 0x80000000
    li      t2, 8
1:  srli    t0, t1, 12
    slli    t0, t0, 10
    ori     t0, t0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    sd      t0, 0(s1)
    addi    s1, s1, 8
    li      t3, 0x200000
    add     t1, t1, t3
    addi    t2, t2, -1
    bnez    t2, 1b
    lla     s1, pt_l1u
    lla     t0, pt_l0u
    call    table_pte
    sd      t0, 0(s1)
    lla     s1, pt_l0u
    lla     t0, upage
    srli    t0, t0, 12
    slli    t0, t0, 10
    ori     t0, t0, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A
    sd      t0, 0(s1)
    lla     t0, udata
    srli    t0, t0, 12
    slli    t0, t0, 10
    ori     t0, t0, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
    sd      t0, 8(s1)
    lla     t0, pt_root
    srli    t0, t0, 12
    li      t1, 8
    slli    t1, t1, 60
    or      t0, t0, t1
    csrw    satp, t0
    sfence.vma

    li      s2, 0x9e3779b97f4a7c15       /* LCG state */
    li      s3, ITERATIONS
    lla     s4, buffer
    addi    s1, s4, 1024                 /* base of the compressed loads and stores */
    li      s5, 0                        /* checksum */
main_loop:
    /* LCG step */
    li      t0, 6364136223846793005
    mul     s2, s2, t0
    li      t0, 1442695040888963407
    add     s2, s2, t0

    /* integer ALU */
    srli    a0, s2, 17
    srai    a1, s2, 9
    add     a2, a0, a1
    sub     a3, a0, a1
    xor     a4, a2, a3
    or      a5, a4, s2
    and     a6, a5, a0
    sll     a7, a6, a1
    srl     t1, a7, a0
    sra     t2, s2, a2
    slt     t3, a0, a1
    sltu    t4, a1, a0
    addw    t5, a0, a1
    subw    t6, a1, a0
    sllw    a2, a0, a1
    srlw    a3, a1, a0
    sraw    a4, s2, a0
    addiw   a5, a0, -1234
    slliw   a6, a1, 7
    srliw   a7, s2, 3
    sraiw   t1, s2, 29
    xori    t2, a0, 0x555
    ori     t3, a1, -2
    andi    t4, s2, 0x7f0
    slti    t5, a0, -1
    sltiu   t6, a1, 100
    lui     a2, 0xfedcb
    auipc   a3, 0
    add     s5, s5, a4
    xor     s5, s5, t2

    /* M */
    mul     a0, s2, a1
    mulh    a2, s2, a1
    mulhu   a3, s2, a1
    mulhsu  a4, s2, a1
    div     a5, s2, a1
    divu    a6, s2, a1
    rem     a7, s2, a1
    remu    t1, s2, a1
    andi    t2, s2, 3                    /* sometimes zero: division by zero */
    div     t3, s2, t2
    remu    t4, s2, t2
    mulw    t5, s2, a1
    divw    t6, s2, a1
    divuw   a0, a1, s2
    remw    a2, s2, a1
    remuw   a3, a1, s2
    li      t0, -1
    li      t1, 1
    slli    t1, t1, 63
    div     a4, t1, t0                   /* overflow: INT_MIN / -1 */
    rem     a5, t1, t0
    add     s5, s5, a0
    add     s5, s5, a5

    /* Zba / Zbb / Zbs */
    sh1add  a0, a1, s2
    sh2add  a2, a1, s2
    sh3add  a3, a1, s2
    add.uw  a4, a1, s2
    slli.uw a5, a1, 5
    andn    a6, s2, a1
    orn     a7, s2, a1
    xnor    t1, s2, a1
    clz     t2, a1
    ctz     t3, s2
    cpop    t4, s2
    clzw    t5, a1
    ctzw    t6, s2
    cpopw   a0, s2
    max     a2, s2, a1
    minu    a3, s2, a1
    rev8    a4, s2
    orc.b   a5, s2
    rol     a6, s2, a1
    ror     a7, s2, a1
    rori    t1, s2, 13
    sext.b  t2, s2
    sext.h  t3, s2
    zext.h  t4, s2
    bset    t5, s2, a1
    bclr    t6, s2, a1
    binv    a0, s2, a1
    bext    a2, s2, a1
    bseti   a3, s2, 63
    add     s5, s5, a4
    xor     s5, s5, t4

    /* loads and stores of every width */
    andi    t0, s2, 0x3f8
    add     t0, t0, s4
    sd      s2, 0(t0)
    sw      a1, 8(t0)
    sh      a2, 12(t0)
    sb      a3, 14(t0)
    ld      a0, 0(t0)
    lw      a4, 8(t0)
    lwu     a5, 8(t0)
    lh      a6, 12(t0)
    lhu     a7, 12(t0)
    lb      t1, 14(t0)
    lbu     t2, 14(t0)
    add     s5, s5, a5
    add     s5, s5, t1

    /* A: AMOs and LR/SC */
    amoadd.d   a0, s2, (t0)
    amoswap.w  a2, a1, (t0)
    amoxor.d   a3, s2, (t0)
    amoand.w   a4, a1, (t0)
    amoor.d    a5, a1, (t0)
    amomax.d   a6, s2, (t0)
    amominu.w  a7, a1, (t0)
    amomaxu.d  t1, a1, (t0)
    amomin.w   t2, s2, (t0)
    lr.d    t3, (t0)
    addi    t3, t3, 1
    sc.d    t4, t3, (t0)
    lr.w.aqrl t5, (t0)
    sc.w.rl t6, t5, (t0)
    sc.d    a0, t5, (t0)                 /* no reservation: fails */
    add     s5, s5, t4
    add     s5, s5, a0
    fence
    fence.i

    /* F and D: arithmetic, fused, conversions with explicit rounding modes, compares, classes, flags */
    fcvt.d.l   f1, s2
    fcvt.d.lu  f2, a1
    fdiv.d     f3, f1, f2
    fmul.d     f4, f3, f1
    fadd.d     f5, f4, f2, rup
    fsub.d     f6, f5, f1, rdn
    fsqrt.d    f7, f2
    fmadd.d    f8, f1, f2, f3
    fmsub.d    f9, f1, f3, f2, rtz
    fnmadd.d   f10, f2, f3, f4
    fnmsub.d   f11, f3, f4, f5
    fsgnj.d    f12, f1, f2
    fsgnjn.d   f13, f2, f1
    fsgnjx.d   f14, f1, f3
    fmin.d     f15, f1, f2
    fmax.d     f16, f3, f4
    feq.d      a0, f1, f2
    flt.d      a2, f3, f4
    fle.d      a3, f5, f6
    fclass.d   a4, f7
    fcvt.l.d   a5, f3, rne
    fcvt.lu.d  a6, f4, rtz
    fcvt.w.d   a7, f5, rmm
    fcvt.wu.d  t1, f6, rup
    fcvt.s.d   f17, f1
    fcvt.d.s   f18, f17
    fcvt.s.l   f19, a1
    fadd.s     f20, f17, f19
    fmul.s     f21, f20, f17, rdn
    fdiv.s     f22, f21, f19
    fsqrt.s    f23, f19
    fmadd.s    f24, f17, f19, f20
    fmin.s     f25, f21, f22
    fle.s      t2, f23, f24
    fclass.s   t3, f22
    fcvt.w.s   t4, f21, rtz
    fmv.x.d    t5, f8
    fmv.x.w    t6, f24
    fmv.d.x    f26, s2
    fmv.w.x    f27, a1
    fsub.d     f28, f26, f26             /* NaN - NaN, inf - inf or 0 */
    fneg.d     f29, f28
    fabs.d     f30, f29
    fsqrt.d    f31, f29                  /* sqrt of a negative: invalid */
    fdiv.d     f0, f1, f28               /* often division by zero */
    fsd        f8, 16(t0)
    fld        f9, 16(t0)
    fsw        f24, 24(t0)
    flw        f10, 24(t0)
    frflags    a0
    fsflags    zero
    frrm       a2
    fsrmi      a3, 2
    fsrmi      zero, 0
    add     s5, s5, a0
    add     s5, s5, t5
    xor     s5, s5, a5

    /* C: compressed forms */
    .option rvc
    c.mv    a0, s2
    c.addi  a0, 7
    c.add   a0, a1
    c.sub   a0, a2
    c.xor   a0, a3
    c.or    a0, a4
    c.and   a0, a5
    c.slli  a0, 3
    c.srli  a0, 2
    c.srai  a0, 1
    c.andi  a0, 13
    c.addw  a0, a1
    c.subw  a0, a2
    c.li    a1, -5
    c.lui   a2, 0x1f
    c.addiw a2, 3
    c.sdsp  a0, 0(sp)
    c.ldsp  a3, 0(sp)
    c.swsp  a1, 8(sp)
    c.lwsp  a4, 8(sp)
    c.sd    a0, 16(s1)
    c.ld    a5, 16(s1)
    c.sw    a1, 24(s1)
    c.lw    a4, 24(s1)
    c.fsd   f8, 32(s1)
    c.fld   f9, 32(s1)
    c.beqz  a1, 2f
    c.bnez  a1, 2f
    c.nop
2:  c.j     3f
    c.nop
3:  .option norvc
    add     s5, s5, a0
    add     s5, s5, a4

    /* branches, calls */
    blt     s2, a1, 4f
    bge     s2, a1, 4f
4:  bltu    a1, s2, 5f
    bgeu    a1, s2, 5f
5:  beq     a1, a1, 6f
    nop
6:  bne     a1, s2, 7f
    nop
7:  call    leaf
    lla     t0, leaf
    jalr    ra, 0(t0)

    /* every 16th iteration: traps, U-mode, interrupts */
    andi    t0, s3, 15
    bnez    t0, next
    call    exercise_traps
next:
    addi    s3, s3, -1
    bnez    s3, main_loop

    /* done: result in s5; QEMU exits through the finisher */
    lla     t0, result
    sd      s5, 0(t0)
    li      t0, FINISHER
    li      t1, 0x5555
    sw      t1, 0(t0)
1:  j       1b

leaf:
    addi    a0, a0, 1
    ret

/* table_pte: t0 = address of a next-level table -> t0 = its non-leaf PTE */
table_pte:
    srli    t0, t0, 12
    slli    t0, t0, 10
    ori     t0, t0, PTE_V
    ret

exercise_traps:
    addi    sp, sp, -16
    sd      ra, 0(sp)
    /* illegal instruction: an M-mode CSR from S-mode */
    csrr    a0, mstatus
    /* breakpoint */
    ebreak
    /* load and store page faults on the hole */
    li      t0, HOLE_VA
    ld      a0, 0(t0)
    sd      a0, 8(t0)
    /* S reads U data with SUM set */
    li      t0, SSTATUS_SUM
    csrs    sstatus, t0
    li      t0, UDATA_VA
    ld      a2, 0(t0)
    add     s5, s5, a2
    li      t0, SSTATUS_SUM
    csrc    sstatus, t0
    /* a trip to U-mode: the U code ends with ecall, which brings us back */
    lla     t0, u_back
    lla     t1, resume_from_u
    sd      t0, 0(t1)
    li      t0, UVA
    csrw    sepc, t0
    li      t0, SSTATUS_SPP
    csrc    sstatus, t0
    mv      a0, s2
    sret
u_back:
    add     s5, s5, a0
    /* supervisor software interrupt */
    li      t0, 2
    csrs    sie, t0
    csrsi   sstatus, SSTATUS_SIE
    csrs    sip, t0
    csrci   sstatus, SSTATUS_SIE
    /* Sstc timer: a deadline in the past fires at once */
    li      t0, 0x20
    csrs    sie, t0
    csrw    CSR_STIMECMP, zero
    csrsi   sstatus, SSTATUS_SIE
    nop
    csrci   sstatus, SSTATUS_SIE
    csrw    sie, zero
    ld      ra, 0(sp)
    addi    sp, sp, 16
    ret

/* S-mode trap handler: skips faulting instructions, returns from U-mode trips, clears interrupts. */
    .option rvc                          /* gas pads to 4 only when it may use c.nop */
    .balign 4
    .option norvc
trap_entry:
    csrrw   sp, sscratch, sp
    sd      t0, 0(sp)
    sd      t1, 8(sp)
    csrr    t0, scause
    bltz    t0, interrupt
    li      t1, 8                        /* ecall from U: back to S at the saved address */
    beq     t0, t1, from_u
    li      t1, 2                        /* illegal instruction */
    beq     t0, t1, skip
    li      t1, 3                        /* breakpoint */
    beq     t0, t1, skip
    li      t1, 13                       /* load page fault */
    beq     t0, t1, skip
    li      t1, 15                       /* store page fault */
    beq     t0, t1, skip
    li      t0, FINISHER                 /* anything else: fail */
    li      t1, 0x3333
    sw      t1, 0(t0)
1:  j       1b
skip:
    csrr    t0, sepc
    addi    t0, t0, 4
    csrw    sepc, t0
    j       out
from_u:
    lla     t0, resume_from_u
    ld      t0, 0(t0)
    csrw    sepc, t0
    li      t0, SSTATUS_SPP
    csrs    sstatus, t0
    j       out
interrupt:
    slli    t0, t0, 1
    srli    t0, t0, 1
    li      t1, 1
    beq     t0, t1, soft
    li      t1, -1                       /* timer: push the deadline away */
    csrw    CSR_STIMECMP, t1
    j       out
soft:
    li      t0, 2
    csrc    sip, t0
out:
    ld      t0, 0(sp)
    ld      t1, 8(sp)
    csrrw   sp, sscratch, sp
    sret

/* U-mode code, executed at UVA: loads and stores on its data page, then ecall. */
    .section .upage, "ax"
    .balign 4096
    .globl upage
upage:
    li      t0, UDATA_VA
    sd      a0, 0(t0)
    ld      a1, 0(t0)
    addi    a1, a1, 3
    sd      a1, 8(t0)
    mul     a0, a1, a0
    ecall
1:  j       1b

    .section .data
    .balign 4096
pt_root: .space 4096
pt_l1:   .space 4096
pt_l1u:  .space 4096
pt_l0u:  .space 4096
    .globl udata
udata:   .space 4096
buffer:  .space 1024 + 64
resume_from_u: .dword 0
    .globl result
result:  .dword 0
    .balign 16
    .space 4096
stack_top:
    .space 512
trap_stack_top:
