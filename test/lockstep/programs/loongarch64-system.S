/*
 * loongarch64 lockstep program: the instruction classes a kernel and BusyBox use, at PLV0 and PLV3,
 * in direct address mode and in paged mode through a direct-mapped window, user pages refilled by a
 * TLB refill handler (lddir/ldpte/tlbfill) from a 3-level page table, the TLB instructions,
 * exceptions (syscall, break, INE, IPE, FPD, page invalid/modify/privilege, ADEM) and constant
 * timer interrupts. QEMU 7.2 starts it at _start in PLV0 with CRMD.DA set, as hvisor-ts resets a
 * core; both are compared after every instruction, exception or interrupt entry.
 *
 * Registers: s0 = LCG state, s1..s6 = accumulators, s7 = exception log, s8 = iteration counter,
 * fp = timer interrupts taken. The exception handler saves t0..t3 in SAVE0..3.
 */
#define ITERATIONS 320
#define CRMD 0x0
#define PRMD 0x1
#define EUEN 0x2
#define ECFG 0x4
#define ESTAT 0x5
#define ERA 0x6
#define BADV 0x7
#define EENTRY 0xc
#define TLBIDX 0x10
#define TLBEHI 0x11
#define TLBELO0 0x12
#define TLBELO1 0x13
#define ASID 0x18
#define PGDL 0x19
#define PGD 0x1b
#define PWCL 0x1c
#define PWCH 0x1d
#define STLBPS 0x1e
#define SAVE0 0x30
#define SAVE1 0x31
#define SAVE2 0x32
#define SAVE3 0x33
#define TCFG 0x41
#define TICLR 0x44
#define TLBRENTRY 0x88
#define TLBRSAVE 0x8b
#define DMW0 0x180
#define DMW_BASE 0x9000000000000000
/* PTE bits (as Linux lays them out): V, D, PLV[3:2], MAT[5:4] = 1 (coherent cached), G, HUGE = bit 6 at directory level */
#define PTE_V 1
#define PTE_D 2
#define PTE_PLV3 (3 << 2)
#define PTE_MAT (1 << 4)
/* 16 KiB pages, as Debian's loong64 kernel uses (QEMU 7.2 also maps guest pages in 16 KiB units). */
#define PAGE 0x4000
#define UCODE_VA  0x10000
#define UDATA_VA  0x20000              /* 4 user data pages at 0x20000..0x2ffff */
#define UINVAL_VA 0x30000              /* PTE with V clear: page invalid */
#define UCLEAN_VA 0x34000              /* PTE with D clear: page modification on store */
#define UKERN_VA  0x38000              /* PTE with PLV 0: privilege fault from PLV3 */
#define UHOLE_VA  0x40000              /* no PTE at all: refill loads an invalid entry */

    .section .text.boot, "ax"
    .globl _start
_start:
    /* Direct address mode: set up the exception entries and the page tables. */
    la.pcrel  $t0, exc_entry
    li.d      $t1, DMW_BASE
    or        $t0, $t0, $t1
    csrwr     $t0, EENTRY
    la.pcrel  $t0, tlbr_entry             /* the refill handler runs in DA mode: a physical address */
    csrwr     $t0, TLBRENTRY
    li.d      $t0, 14 | (11 << 5) | (25 << 10) | (11 << 15) | (36 << 20) | (11 << 25)
    csrwr     $t0, PWCL
    csrwr     $zero, PWCH
    ori       $t0, $zero, 14
    csrwr     $t0, STLBPS
    la.pcrel  $t0, pt_root
    csrwr     $t0, PGDL
    ori       $t0, $zero, 5
    csrwr     $t0, ASID
    bl        build_page_tables

    /* DMW0: 0x9000... -> physical for PLV0 (cached), then paged mode at the window alias. */
    li.d      $t0, DMW_BASE | 0x11
    csrwr     $t0, DMW0
    la.pcrel  $t0, 1f
    li.d      $t1, DMW_BASE
    or        $t0, $t0, $t1
    jirl      $zero, $t0, 0
1:  ori       $t0, $zero, 0x10 | 0xa0     /* PG, DATF = DATM = 1 */
    csrwr     $t0, CRMD

    li.d      $s0, 0x853c49e6748fea9b     /* LCG state */
    move      $s1, $zero
    move      $s2, $zero
    move      $s3, $zero
    move      $s4, $zero
    move      $s5, $zero
    move      $s6, $zero
    move      $s7, $zero
    move      $fp, $zero
    ori       $s8, $zero, ITERATIONS

    /* FP is off (EUEN.FPE = 0): the first FP instruction takes FPD, whose handler turns it on. */
    movgr2fr.d $fa0, $zero

main_loop:
    bl        integer_block
    bl        fp_block
    bl        memory_block
    bl        user_round
    bl        tlb_block
    bl        timer_round
    andi      $t0, $s8, 7
    bnez      $t0, 2f
    bl        fault_block
2:  addi.d    $s8, $s8, -1
    bnez      $s8, main_loop

    .globl finish
finish:
    li.d      $t0, DMW_BASE | 0x100e001c   /* GED sleep control: S5 */
    ori       $t1, $zero, 0x34
    st.b      $t1, $t0, 0
3:  idle      0
    b         3b

/* ---------------------------------------------------------------------------------------------- */
/* lcg: s0 = s0 * 6364136223846793005 + 1442695040888963407; a0 = new state */
lcg:
    li.d      $t8, 6364136223846793005
    mul.d     $s0, $s0, $t8
    li.d      $t8, 1442695040888963407
    add.d     $s0, $s0, $t8
    move      $a0, $s0
    jr        $ra

integer_block:
    move      $a7, $ra
    bl        lcg
    move      $a1, $a0
    bl        lcg
    move      $a2, $a0
    srli.d    $a3, $a2, 58                /* a small shift amount */
    add.w     $t0, $a1, $a2
    add.d     $t1, $a1, $a2
    sub.w     $t2, $a1, $a2
    sub.d     $t3, $a1, $a2
    xor       $s1, $s1, $t0
    add.d     $s1, $s1, $t1
    xor       $s1, $s1, $t2
    add.d     $s1, $s1, $t3
    slt       $t0, $a1, $a2
    sltu      $t1, $a1, $a2
    slti      $t2, $a1, -100
    sltui     $t3, $a2, 2000
    add.d     $s2, $s2, $t0
    add.d     $s2, $s2, $t1
    add.d     $s2, $s2, $t2
    add.d     $s2, $s2, $t3
    nor       $t0, $a1, $a2
    and       $t1, $a1, $a2
    or        $t2, $a1, $a2
    orn       $t3, $a1, $a2
    andn      $t4, $a1, $a2
    maskeqz   $t5, $a1, $t1
    masknez   $t6, $a2, $t2
    xor       $s3, $s3, $t0
    xor       $s3, $s3, $t1
    add.d     $s3, $s3, $t2
    xor       $s3, $s3, $t3
    add.d     $s3, $s3, $t4
    xor       $s3, $s3, $t5
    add.d     $s3, $s3, $t6
    sll.w     $t0, $a1, $a3
    srl.w     $t1, $a1, $a3
    sra.w     $t2, $a1, $a3
    sll.d     $t3, $a1, $a3
    srl.d     $t4, $a1, $a3
    sra.d     $t5, $a1, $a3
    rotr.w    $t6, $a1, $a3
    rotr.d    $t7, $a1, $a3
    xor       $s4, $s4, $t0
    add.d     $s4, $s4, $t1
    xor       $s4, $s4, $t2
    add.d     $s4, $s4, $t3
    xor       $s4, $s4, $t4
    add.d     $s4, $s4, $t5
    xor       $s4, $s4, $t6
    add.d     $s4, $s4, $t7
    slli.w    $t0, $a1, 7
    srli.w    $t1, $a1, 13
    srai.w    $t2, $a1, 31
    slli.d    $t3, $a1, 44
    srli.d    $t4, $a1, 1
    srai.d    $t5, $a1, 63
    rotri.w   $t6, $a1, 5
    rotri.d   $t7, $a1, 37
    xor       $s5, $s5, $t0
    add.d     $s5, $s5, $t1
    xor       $s5, $s5, $t2
    add.d     $s5, $s5, $t3
    xor       $s5, $s5, $t4
    add.d     $s5, $s5, $t5
    xor       $s5, $s5, $t6
    add.d     $s5, $s5, $t7
    mul.w     $t0, $a1, $a2
    mulh.w    $t1, $a1, $a2
    mulh.wu   $t2, $a1, $a2
    mul.d     $t3, $a1, $a2
    mulh.d    $t4, $a1, $a2
    mulh.du   $t5, $a1, $a2
    mulw.d.w  $t6, $a1, $a2
    mulw.d.wu $t7, $a1, $a2
    xor       $s6, $s6, $t0
    add.d     $s6, $s6, $t1
    xor       $s6, $s6, $t2
    add.d     $s6, $s6, $t3
    xor       $s6, $s6, $t4
    add.d     $s6, $s6, $t5
    xor       $s6, $s6, $t6
    add.d     $s6, $s6, $t7
    srai.d    $a4, $a2, 40                /* a smaller divisor, sometimes zero or negative */
    div.w     $t0, $a1, $a4
    mod.w     $t1, $a1, $a4
    div.wu    $t2, $a1, $a4
    mod.wu    $t3, $a1, $a4
    div.d     $t4, $a1, $a4
    mod.d     $t5, $a1, $a4
    div.du    $t6, $a1, $a4
    mod.du    $t7, $a1, $a4
    xor       $s1, $s1, $t0
    add.d     $s1, $s1, $t1
    xor       $s1, $s1, $t2
    add.d     $s1, $s1, $t3
    xor       $s1, $s1, $t4
    add.d     $s1, $s1, $t5
    xor       $s1, $s1, $t6
    add.d     $s1, $s1, $t7
    andi      $a5, $a2, 0xff
    div.d     $t0, $a1, $zero             /* division by zero: unspecified, compared anyway */
    div.du    $t1, $a5, $zero
    mod.d     $t2, $a1, $zero
    add.d     $s2, $s2, $t0
    xor       $s2, $s2, $t1
    add.d     $s2, $s2, $t2
    alsl.w    $t0, $a1, $a2, 2
    alsl.wu   $t1, $a1, $a2, 3
    alsl.d    $t2, $a1, $a2, 4
    lu12i.w   $t3, -0x12345
    lu32i.d   $t3, 0x54321
    lu52i.d   $t3, $t3, -0x7ff
    addi.w    $t4, $a1, -2048
    addi.d    $t5, $a1, 2047
    addu16i.d $t6, $a1, -0x8000
    andi      $t7, $a1, 0xfff
    xor       $s3, $s3, $t0
    add.d     $s3, $s3, $t1
    xor       $s3, $s3, $t2
    add.d     $s3, $s3, $t3
    xor       $s3, $s3, $t4
    add.d     $s3, $s3, $t5
    xor       $s3, $s3, $t6
    add.d     $s3, $s3, $t7
    ori       $t0, $a1, 0x5a5
    xori      $t1, $a1, 0xa5a
    pcaddi    $t2, 100
    pcaddu12i $t3, -3
    pcalau12i $t4, 7
    pcaddu18i $t5, 1
    xor       $s4, $s4, $t0
    add.d     $s4, $s4, $t1
    sub.d     $t2, $t2, $t3
    sub.d     $t4, $t4, $t5
    add.d     $s4, $s4, $t2
    add.d     $s4, $s4, $t4
    ext.w.h   $t0, $a1
    ext.w.b   $t1, $a1
    clo.w     $t2, $a1
    clz.w     $t3, $a1
    cto.w     $t4, $a1
    ctz.w     $t5, $a1
    clo.d     $t6, $a1
    clz.d     $t7, $a1
    xor       $s5, $s5, $t0
    add.d     $s5, $s5, $t1
    xor       $s5, $s5, $t2
    add.d     $s5, $s5, $t3
    xor       $s5, $s5, $t4
    add.d     $s5, $s5, $t5
    xor       $s5, $s5, $t6
    add.d     $s5, $s5, $t7
    cto.d     $t0, $a2
    ctz.d     $t1, $a2
    revb.2h   $t2, $a2
    revb.4h   $t3, $a2
    revb.2w   $t4, $a2
    revb.d    $t5, $a2
    revh.2w   $t6, $a2
    revh.d    $t7, $a2
    xor       $s6, $s6, $t0
    add.d     $s6, $s6, $t1
    xor       $s6, $s6, $t2
    add.d     $s6, $s6, $t3
    xor       $s6, $s6, $t4
    add.d     $s6, $s6, $t5
    xor       $s6, $s6, $t6
    add.d     $s6, $s6, $t7
    bitrev.4b $t0, $a2
    bitrev.8b $t1, $a2
    bitrev.w  $t2, $a2
    bitrev.d  $t3, $a2
    bytepick.w $t4, $a1, $a2, 1
    bytepick.d $t5, $a1, $a2, 5
    bstrpick.w $t6, $a2, 27, 3
    bstrpick.d $t7, $a2, 50, 9
    xor       $s1, $s1, $t0
    add.d     $s1, $s1, $t1
    xor       $s1, $s1, $t2
    add.d     $s1, $s1, $t3
    xor       $s1, $s1, $t4
    add.d     $s1, $s1, $t5
    xor       $s1, $s1, $t6
    add.d     $s1, $s1, $t7
    move      $t0, $a1
    move      $t1, $a1
    bstrins.w $t0, $a2, 20, 6
    bstrins.d $t1, $a2, 60, 17
    crc.w.b.w $t2, $a1, $a2
    crc.w.d.w $t3, $a1, $a2
    crcc.w.w.w $t4, $a1, $a2
    crcc.w.h.w $t5, $a1, $a2
    xor       $s2, $s2, $t0
    add.d     $s2, $s2, $t1
    xor       $s2, $s2, $t2
    add.d     $s2, $s2, $t3
    xor       $s2, $s2, $t4
    add.d     $s2, $s2, $t5
    /* branches on the random values */
    blt       $a1, $a2, 4f
    addi.d    $s3, $s3, 1
4:  bge       $a1, $a2, 5f
    addi.d    $s3, $s3, 3
5:  bltu      $a1, $a2, 6f
    addi.d    $s3, $s3, 5
6:  bgeu      $a1, $a2, 7f
    addi.d    $s3, $s3, 7
7:  beq       $t7, $t6, 8f
    addi.d    $s3, $s3, 11
8:  bne       $t5, $t5, 9f
    andi      $t0, $a1, 1
    beqz      $t0, 9f
    addi.d    $s3, $s3, 13
9:  jirl      $zero, $a7, 0

/* ---------------------------------------------------------------------------------------------- */
fp_block:
    move      $a7, $ra
    bl        lcg
    srai.d    $a1, $a0, 20
    bl        lcg
    srai.d    $a2, $a0, 44
    srli.d    $a3, $a0, 62                /* a rounding mode */
    slli.d    $a3, $a3, 8
    movgr2fcsr $fcsr3, $a3
    movgr2fr.d $fa1, $a1
    ffint.d.l $fa1, $fa1
    movgr2fr.w $fa2, $a2
    ffint.d.w $fa2, $fa2
    movgr2fr.w $fa3, $a1
    ffint.s.w $fa3, $fa3
    movgr2fr.d $fa4, $a2
    ffint.s.l $fa4, $fa4
    fadd.d    $fa5, $fa1, $fa2
    fsub.d    $fa6, $fa1, $fa2
    fmul.d    $fa7, $fa1, $fa2
    fdiv.d    $ft0, $fa1, $fa2            /* a2 may be zero: DZ, infinities */
    fadd.s    $ft1, $fa3, $fa4
    fsub.s    $ft2, $fa3, $fa4
    fmul.s    $ft3, $fa3, $fa4
    fdiv.s    $ft4, $fa3, $fa4
    fabs.d    $ft5, $fa6
    fsqrt.d   $ft6, $ft5
    fsqrt.s   $ft7, $ft1                  /* negative inputs: invalid, the default NaN */
    fmadd.d   $ft8, $fa1, $fa2, $fa5
    fmsub.d   $ft9, $fa1, $fa2, $fa5
    fnmadd.s  $ft10, $fa3, $fa4, $ft1
    fnmsub.s  $ft11, $fa3, $fa4, $ft1
    fmax.d    $ft12, $fa1, $fa2
    fmin.d    $ft13, $fa1, $fa2
    fmaxa.s   $ft14, $fa3, $fa4
    fmina.s   $ft15, $fa3, $fa4
    fneg.d    $fs0, $fa7
    fcopysign.d $fs1, $fa1, $fa2
    fcvt.s.d  $fs2, $fa7
    fcvt.d.s  $fs3, $ft3
    frint.d   $fs4, $ft0
    frint.s   $fs5, $ft4
    fclass.d  $fs6, $ft0
    fclass.s  $fs7, $ft7
    frecip.d  $fa0, $fa5
    ftint.l.d $fa0, $fa0
    ftintrz.w.d $ft0, $fa7
    ftintrne.l.s $ft1, $fa3
    ftintrm.w.s $ft2, $ft4
    ftintrp.l.d $ft3, $ft8
    ftint.w.d $ft4, $ft0
    fcmp.clt.d $fcc0, $fa1, $fa2
    fcmp.cueq.s $fcc1, $fa3, $fa4
    fcmp.sle.d $fcc2, $fa5, $fa6
    fcmp.cor.d $fcc3, $ft0, $ft6
    fcmp.cun.s $fcc4, $ft7, $ft7
    fcmp.cne.d $fcc5, $fa1, $fa2
    fsel      $ft5, $fa1, $fa2, $fcc0
    movcf2gr  $t0, $fcc0
    movcf2gr  $t1, $fcc1
    movcf2gr  $t2, $fcc2
    movcf2gr  $t3, $fcc3
    movcf2gr  $t4, $fcc4
    movcf2gr  $t5, $fcc5
    slli.d    $t1, $t1, 1
    slli.d    $t2, $t2, 2
    slli.d    $t3, $t3, 3
    slli.d    $t4, $t4, 4
    slli.d    $t5, $t5, 5
    or        $t0, $t0, $t1
    or        $t0, $t0, $t2
    or        $t0, $t0, $t3
    or        $t0, $t0, $t4
    or        $t0, $t0, $t5
    add.d     $s4, $s4, $t0
    bceqz     $fcc0, 1f
    addi.d    $s4, $s4, 17
1:  bcnez     $fcc3, 2f
    addi.d    $s4, $s4, 19
2:  movgr2cf  $fcc6, $a1
    movcf2fr  $fs0, $fcc6
    movfr2cf  $fcc7, $fa2
    movfr2gr.d $t0, $ft12
    movfr2gr.s $t1, $ft1
    movfrh2gr.s $t2, $fa5
    movgr2frh.w $fs1, $a1
    fmov.d    $fs2, $fa2
    fmov.s    $fs3, $fa3
    xor       $s5, $s5, $t0
    add.d     $s5, $s5, $t1
    xor       $s5, $s5, $t2
    movfcsr2gr $t0, $fcsr0
    add.d     $s6, $s6, $t0
    movfcsr2gr $t0, $fcsr2
    movgr2fcsr $fcsr2, $zero             /* clear flags and cause */
    jirl      $zero, $a7, 0

/* ---------------------------------------------------------------------------------------------- */
memory_block:
    move      $a7, $ra
    bl        lcg
    la.pcrel  $a5, scratch
    andi      $t0, $a0, 0x3f8             /* an aligned offset */
    add.d     $a6, $a5, $t0
    st.d      $a0, $a6, 0
    st.w      $a0, $a6, 8
    st.h      $a0, $a6, 12
    st.b      $a0, $a6, 14
    ld.d      $t1, $a6, 0
    ld.w      $t2, $a6, 8
    ld.wu     $t3, $a6, 8
    ld.h      $t4, $a6, 12
    ld.hu     $t5, $a6, 12
    ld.b      $t6, $a6, 14
    ld.bu     $t7, $a6, 14
    xor       $s1, $s1, $t1
    add.d     $s1, $s1, $t2
    xor       $s1, $s1, $t3
    add.d     $s1, $s1, $t4
    xor       $s1, $s1, $t5
    add.d     $s1, $s1, $t6
    xor       $s1, $s1, $t7
    srli.d    $t0, $a0, 30
    andi      $t0, $t0, 0x3f7             /* often misaligned: the LA464 allows it */
    stx.d     $a0, $a5, $t0
    ldx.w     $t1, $a5, $t0
    ldx.hu    $t2, $a5, $t0
    ldx.b     $t3, $a5, $t0
    ldx.d     $t4, $a5, $t0
    ldx.bu    $t5, $a5, $t0
    ldx.h     $t6, $a5, $t0
    ldx.wu    $t7, $a5, $t0
    stx.w     $t1, $a5, $t0
    stx.h     $t2, $a5, $t0
    stx.b     $t3, $a5, $t0
    add.d     $s2, $s2, $t1
    xor       $s2, $s2, $t2
    add.d     $s2, $s2, $t3
    xor       $s2, $s2, $t4
    add.d     $s2, $s2, $t5
    xor       $s2, $s2, $t6
    add.d     $s2, $s2, $t7
    ldptr.d   $t1, $a6, 0
    stptr.w   $t1, $a6, 4
    ldptr.w   $t2, $a6, 4
    stptr.d   $t2, $a6, 8
    add.d     $s3, $s3, $t2
    preld     0, $a6, 0
    dbar      0
    ibar      0
    /* LL/SC and the AM* family */
    ll.d      $t1, $a6, 0
    addi.d    $t1, $t1, 1
    sc.d      $t1, $a6, 0
    add.d     $s3, $s3, $t1
    ll.w      $t2, $a6, 8
    sc.w      $t2, $a6, 8
    add.d     $s3, $s3, $t2
    amswap.d  $t1, $a0, $a6
    amadd.d   $t2, $a0, $a6
    amand.w   $t3, $a0, $a6
    amor.d    $t4, $a0, $a6
    amxor.w   $t5, $a0, $a6
    ammax.d   $t6, $a0, $a6
    ammin.w   $t7, $a0, $a6
    xor       $s4, $s4, $t1
    add.d     $s4, $s4, $t2
    xor       $s4, $s4, $t3
    add.d     $s4, $s4, $t4
    xor       $s4, $s4, $t5
    add.d     $s4, $s4, $t6
    xor       $s4, $s4, $t7
    ammax.du  $t1, $a0, $a6
    ammin.wu  $t2, $a0, $a6
    amswap_db.w $t3, $a0, $a6
    amadd_db.d $t4, $a0, $a6
    ammax_db.wu $t5, $a0, $a6
    ld.d      $t6, $a6, 0
    xor       $s5, $s5, $t1
    add.d     $s5, $s5, $t2
    xor       $s5, $s5, $t3
    add.d     $s5, $s5, $t4
    xor       $s5, $s5, $t5
    add.d     $s5, $s5, $t6
    /* FP loads and stores */
    fst.d     $fa1, $a6, 16
    fst.s     $fa3, $a6, 24
    fld.s     $ft0, $a6, 16
    fld.d     $ft1, $a6, 24
    fstx.d    $ft0, $a5, $t0
    fldx.s    $ft2, $a5, $t0
    fstx.s    $ft1, $a5, $t0
    fldx.d    $ft3, $a5, $t0
    ld.d      $t1, $a6, 16
    add.d     $s6, $s6, $t1
    jirl      $zero, $a7, 0

/* ---------------------------------------------------------------------------------------------- */
/* user_round: flush the TLB, run the user loop at PLV3 (refills on every page), back on its syscall. */
user_round:
    invtlb    0, $zero, $zero
    li.d      $t0, UCODE_VA
    csrwr     $t0, ERA
    ori       $t0, $zero, 3               /* PPLV 3, PIE 0 */
    csrwr     $t0, PRMD
    move      $a0, $s0
    ertn
    .globl user_return
user_return:                              /* the syscall handler resumes here, at PLV0 */
    add.d     $s6, $s6, $a0
    jr        $ra

/* tlb_block: the TLB instructions against the entries user_round left. */
tlb_block:
    /* tlbfill picks the STLB way at random (QEMU) or round robin (hvisor-ts): which index a refilled
       entry got is not compared, only what tlbsrch + tlbrd find. Index 0 stays unused (a miss reads it). */
    csrwr     $zero, TLBIDX
    li.d      $t0, UDATA_VA
    csrwr     $t0, TLBEHI
    tlbsrch
    tlbrd
    csrrd     $t2, TLBELO0
    csrrd     $t3, TLBELO1
    csrrd     $t4, TLBEHI
    xor       $s7, $s7, $t2
    add.d     $s7, $s7, $t3
    xor       $s7, $s7, $t4
    csrwr     $zero, TLBIDX
    /* write an MTLB entry by hand (64 KiB pages, index 2048 + n), read it back, drop it with invtlb */
    andi      $t0, $s8, 63
    ori       $t1, $zero, 2048
    add.d     $t0, $t0, $t1
    li.d      $t1, (16 << 24)
    or        $t0, $t0, $t1
    csrwr     $t0, TLBIDX
    li.d      $t0, 0x400000
    csrwr     $t0, TLBEHI
    la.pcrel  $t0, scratch
    li.d      $t1, 0x0000ffffffff0000
    and       $t0, $t0, $t1
    ori       $t0, $t0, PTE_V | PTE_D | PTE_PLV3 | PTE_MAT
    csrwr     $t0, TLBELO0
    csrwr     $zero, TLBELO1
    tlbwr
    csrwr     $zero, TLBEHI
    tlbrd
    csrrd     $t2, TLBEHI
    csrrd     $t3, TLBIDX
    add.d     $s7, $s7, $t2
    xor       $s7, $s7, $t3
    li.d      $t0, 0x400000
    ori       $t1, $zero, 5
    invtlb    5, $t1, $t0
    tlbsrch
    csrrd     $t1, TLBIDX
    srli.d    $t1, $t1, 31
    add.d     $s7, $s7, $t1
    ori       $t1, $zero, 5
    invtlb    4, $t1, $zero
    invtlb    6, $t1, $t0
    invtlb    2, $zero, $zero
    invtlb    3, $zero, $zero
    csrrd     $t2, PGD
    add.d     $s7, $s7, $t2
    jr        $ra

/* timer_round: arm the constant timer with interrupts off, wait for it, then take it. */
timer_round:
    li.d      $t0, 1 << 11                /* ECFG.LIE = TI, VS = 0 */
    csrwr     $t0, ECFG
    ori       $t0, $zero, (40 << 2) | 1   /* one-shot, 40 ticks */
    csrwr     $t0, TCFG
    idle      0
    ori       $t0, $zero, 4
    ori       $t1, $zero, 4
    csrxchg   $t0, $t1, CRMD              /* IE on: the pending timer interrupt is taken here */
    csrxchg   $zero, $t1, CRMD            /* IE off again */
    jr        $ra

/* fault_block: synchronous exceptions at PLV0 (the handler logs and skips them). */
fault_block:
    break     5
    .word     0xffffffff                  /* not an instruction: INE */
    li.d      $t0, 0x0001000000000000     /* VA[63:48] not a sign extension, no window: ADEM */
    ld.d      $t1, $t0, 0
    jr        $ra

/* ---------------------------------------------------------------------------------------------- */
/* Exception entry (EENTRY, VS = 0; its bits 11:0 are zero): everything but the TLB refill. */
    .balign 4096
exc_entry:
    csrwr     $t0, SAVE0
    csrwr     $t1, SAVE1
    csrwr     $t2, SAVE2
    /* A page fault records the faulting page pair in TLBEHI: VA[47:13] on the LA464, VA[47:15] in
       QEMU 7.2 (its 16 KiB page pairs). Equal for 16 KiB pages as far as tlbsrch goes, not when read. */
    csrwr     $zero, TLBEHI
    csrrd     $t0, ESTAT
    bstrpick.d $t1, $t0, 21, 16          /* Ecode */
    beqz      $t1, exc_interrupt
    slli.d    $s7, $s7, 3
    xor       $s7, $s7, $t0               /* log ESTAT (ecode, subcode) */
    csrrd     $t2, BADV
    xor       $s7, $s7, $t2
    ori       $t2, $zero, 0xb
    beq       $t1, $t2, exc_syscall
    ori       $t2, $zero, 0xf
    beq       $t1, $t2, exc_fpd
    csrrd     $t2, ERA                    /* anything else: skip the instruction */
    addi.d    $t2, $t2, 4
    csrwr     $t2, ERA
exc_return:
    csrrd     $t0, SAVE0
    csrrd     $t1, SAVE1
    csrrd     $t2, SAVE2
    ertn
exc_fpd:                                  /* turn FP on and retry */
    ori       $t2, $zero, 1
    csrwr     $t2, EUEN
    b         exc_return
exc_syscall:
    csrrd     $t2, PRMD
    andi      $t2, $t2, 3
    beqz      $t2, exc_return_skip        /* a PLV0 syscall: just skip it */
    la.pcrel  $t2, user_return            /* the user round is over: back to the kernel at PLV0 */
    csrwr     $t2, ERA
    csrwr     $zero, PRMD
    b         exc_return
exc_return_skip:
    csrrd     $t2, ERA
    addi.d    $t2, $t2, 4
    csrwr     $t2, ERA
    b         exc_return
exc_interrupt:
    ori       $t1, $zero, 1
    csrwr     $t1, TICLR
    addi.d    $fp, $fp, 1
    bstrpick.d $t0, $t0, 12, 2            /* IS bits without the software ones */
    add.d     $s7, $s7, $t0
    b         exc_return

/* TLB refill (TLBRENTRY, DA mode; 4 KiB aligned too): walk the 3-level table as Linux does. */
    .balign 4096
tlbr_entry:
    csrwr     $t0, TLBRSAVE
    csrrd     $t0, PGD
    lddir     $t0, $t0, 2
    lddir     $t0, $t0, 1
    ldpte     $t0, 0
    ldpte     $t0, 1
    tlbfill
    csrrd     $t0, TLBRSAVE
    ertn

/* build_page_tables (DA mode): root -> dir1 -> pte table mapping the user pages. */
build_page_tables:
    la.pcrel  $t0, pt_root
    la.pcrel  $t1, pt_dir1
    st.d      $t1, $t0, 0                 /* root[0] -> dir1 (VA bits 46:36 = 0) */
    la.pcrel  $t0, pt_dir1
    la.pcrel  $t1, pt_pte
    st.d      $t1, $t0, 0                 /* dir1[0] -> pte table (VA bits 35:25 = 0) */
    la.pcrel  $t0, pt_pte
    la.pcrel  $t1, user_code
    ori       $t1, $t1, PTE_V | PTE_PLV3 | PTE_MAT
    st.d      $t1, $t0, (UCODE_VA >> 14) * 8
    la.pcrel  $t1, user_data
    ori       $t1, $t1, PTE_V | PTE_D | PTE_PLV3 | PTE_MAT
    lu12i.w   $t2, PAGE >> 12
    st.d      $t1, $t0, (UDATA_VA >> 14) * 8
    add.d     $t1, $t1, $t2
    st.d      $t1, $t0, (UDATA_VA >> 14) * 8 + 8
    add.d     $t1, $t1, $t2
    st.d      $t1, $t0, (UDATA_VA >> 14) * 8 + 16
    add.d     $t1, $t1, $t2
    st.d      $t1, $t0, (UDATA_VA >> 14) * 8 + 24
    la.pcrel  $t1, user_data
    ori       $t1, $t1, PTE_D | PTE_PLV3 | PTE_MAT /* V clear */
    st.d      $t1, $t0, (UINVAL_VA >> 14) * 8
    la.pcrel  $t1, user_data
    ori       $t1, $t1, PTE_V | PTE_PLV3 | PTE_MAT /* D clear */
    st.d      $t1, $t0, (UCLEAN_VA >> 14) * 8
    la.pcrel  $t1, user_data
    ori       $t1, $t1, PTE_V | PTE_D | PTE_MAT    /* PLV 0 */
    st.d      $t1, $t0, (UKERN_VA >> 14) * 8
    jr        $ra

/* ---------------------------------------------------------------------------------------------- */
/* The user program (PLV3, mapped at UCODE_VA): arithmetic, its data pages, faults, then syscall. */
    .section .upage, "ax"
    .globl user_code
user_code:
    li.d      $t0, UDATA_VA
    ori       $t3, $zero, 64
1:  mul.d     $a0, $a0, $a0
    addi.d    $a0, $a0, 0x2c5
    bstrpick.d $t1, $a0, 15, 3
    slli.d    $t1, $t1, 3
    add.d     $t2, $t0, $t1               /* one of the four data pages */
    ld.d      $t4, $t2, 0
    add.d     $t4, $t4, $a0
    st.d      $t4, $t2, 0
    addi.d    $t3, $t3, -1
    bnez      $t3, 1b
    andi      $t1, $a0, 0xe0
    bnez      $t1, 2f                     /* now and then: the user-mode faults */
    li.d      $t0, UINVAL_VA
    ld.d      $t1, $t0, 0                 /* PIL */
    li.d      $t0, UCLEAN_VA
    ld.d      $t1, $t0, 0                 /* fine: readable */
    st.d      $t1, $t0, 0                 /* PME */
    li.d      $t0, UKERN_VA
    ld.d      $t1, $t0, 0                 /* PPI */
    li.d      $t0, UHOLE_VA
    st.d      $t1, $t0, 0                 /* refill loads an empty PTE, then PIS */
    li.d      $t0, 0x0009000000000000
    ld.d      $t1, $t0, 0                 /* ADEM */
    csrrd     $t1, ESTAT                  /* IPE */
    break     1                           /* BRK */
    fadd.d    $fa0, $fa0, $fa0            /* FP is on: fine at PLV3 */
2:  syscall   0

    .section .data
    .balign PAGE
pt_root: .space PAGE
pt_dir1: .space PAGE
pt_pte:  .space PAGE
user_data: .space 4 * PAGE
scratch: .space 2048
