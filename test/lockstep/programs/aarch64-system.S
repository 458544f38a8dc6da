/*
 * Lockstep program for qemu-system-aarch64 (virt, cortex-a53, -kernel ELF: entered at EL1, MMU off)
 * and our core. Sets up stage-1 tables (EL1 code, EL0 code, EL1 data, EL0 data, each a 2 MiB block),
 * turns the MMU on, then loops over every instruction class with pseudo-random operands: integer,
 * loads/stores of all forms, exclusives, CRC32, scalar FP, NEON, branches, system registers, SVC/BRK
 * and data aborts into the EL1 vector table, and an EL0 excursion. Ends with PSCI SYSTEM_OFF (hvc).
 * Interrupts stay masked: neither machine raises any.
 */
    .arch   armv8-a+crc
#ifndef ITERATIONS
#define ITERATIONS 1000
#endif

    .section .text.boot, "ax"
    .global _start
_start:
    mov     x0, #0                      // QEMU may pass a DTB pointer: clear before comparing
    .global compare_start
compare_start:
    mrs     x2, sctlr_el1               // the reset value (QEMU's cortex-a53: 0x00c50838)
    msr     sctlr_el1, xzr              // RES1 bits are not forced on a write
    mrs     x3, sctlr_el1
    msr     sctlr_el1, x2
    mov     x1, #(3 << 20)              // CPACR_EL1.FPEN: FP/SIMD at EL0 and EL1
    msr     cpacr_el1, x1
    adr     x1, vectors
    msr     vbar_el1, x1
    ldr     x1, =stack_top
    mov     sp, x1
    isb

    /* tables: L1[0] device block (0..1 GiB), L1[1] -> L2; L2[0..3] the four program blocks */
    ldr     x0, =pt_l1
    ldr     x1, =pt_l2
    orr     x2, x1, #3
    str     x2, [x0, #8]
    mov     x2, #0x401                  // device (attr 0), AF
    orr     x2, x2, #(3 << 53)          // UXN | PXN
    str     x2, [x0]
    mov     x2, #0x40000000
    add     x2, x2, #0x405              // EL1 code: normal, EL1 RW, AF
    orr     x2, x2, #(1 << 54)          // UXN
    str     x2, [x1, #0]
    mov     x2, #0x40200000
    add     x2, x2, #0x4c5              // EL0 code: AP=11 read-only at both ELs
    str     x2, [x1, #8]
    mov     x2, #0x40400000
    add     x2, x2, #0x405              // EL1 data
    orr     x2, x2, #(3 << 53)
    str     x2, [x1, #16]
    mov     x2, #0x40600000
    add     x2, x2, #0x445              // EL0 data: AP=01 EL0 RW
    orr     x2, x2, #(3 << 53)
    str     x2, [x1, #24]
    mov     x2, #0xff00                 // attr1 normal WB, attr0 device
    msr     mair_el1, x2
    ldr     x2, =0x00000002b5193519     // TCR: T0SZ=T1SZ=25, 4K, WBWA, IS, 40-bit IPA
    msr     tcr_el1, x2
    msr     ttbr0_el1, x0
    isb
    ldr     x2, =0x30d00801             // M + the v8.0 RES1 bits (reset values differ: cortex-a53 0x00c50838)
    msr     sctlr_el1, x2
    isb

    /* clear everything the setup touched */
    mov     x0, #0
    mov     x1, #0
    mov     x2, #0
    ldr     x20, =0x9e3779b97f4a7c15    // LCG state
    ldr     x21, =ITERATIONS
    ldr     x22, =data
    ldr     x23, =el0data
    mov     x24, #0                     // running checksum

main_loop:
    /* next pseudo-random operands: x20 = x20 * A + C; x3, x4, x5 derived */
    ldr     x1, =0x5851f42d4c957f2d
    ldr     x2, =0x14057b7ef767814f
    madd    x20, x20, x1, x2
    mov     x3, x20
    ror     x4, x20, #29
    eor     x5, x20, x20, lsr #17

    /* --- integer ------------------------------------------------------------------------------ */
    add     x6, x3, x4
    add     x6, x6, x5, lsl #7
    add     w7, w3, w4, uxtb #2
    add     x7, x7, w5, sxtw
    sub     x8, x3, x4, asr #13
    sub     w8, w8, w5, lsr #3
    adds    x9, x3, x4
    adc     x10, x3, x5
    adcs    w10, w10, w4
    sbc     x11, x4, x3
    subs    w11, w3, w5
    sbcs    x11, x11, x6
    cmn     x3, #0x123
    cmp     w4, #0xfff, lsl #12
    neg     x12, x3
    negs    w12, w4
    and     x13, x3, #0x00ff00ff00ff00ff
    orr     w13, w13, #0x7ffe
    eor     x14, x4, #0xaaaaaaaaaaaaaaaa
    ands    x14, x14, x5, ror #9
    bic     x15, x3, x4
    bics    w15, w5, w6, lsl #4
    orn     x16, x3, x5
    eon     w16, w4, w3
    tst     x5, #0x8000000000000001
    movz    x17, #0x1234, lsl #32
    movk    x17, #0xbeef, lsl #16
    movn    w18, #0x55
    add     x24, x24, x6
    eor     x24, x24, x7
    add     x24, x24, x8
    eor     x24, x24, x9
    add     x24, x24, x10
    eor     x24, x24, x11
    add     x24, x24, x13
    eor     x24, x24, x14
    add     x24, x24, x15
    eor     x24, x24, x16
    add     x24, x24, x17
    ubfx    x6, x3, #13, #21
    sbfx    w7, w4, #3, #17
    bfi     x6, x5, #40, #12
    bfxil   w7, w3, #20, #8
    ubfiz   x8, x4, #7, #33
    sbfiz   x9, x5, #60, #4
    extr    x10, x3, x4, #19
    extr    w11, w4, w5, #7
    lsl     x12, x3, x4
    lsr     w13, w4, w5
    asr     x14, x5, x3
    ror     w15, w3, w4
    clz     x16, x6
    cls     w17, w7
    rbit    x18, x8
    rev     x19, x9
    rev16   w25, w10
    rev32   x26, x11
    sxtb    x27, w12
    sxth    w28, w13
    sxtw    x29, w14
    uxtb    w30, w15
    add     x24, x24, x6
    eor     x24, x24, x7
    add     x24, x24, x16
    eor     x24, x24, x18
    add     x24, x24, x19
    eor     x24, x24, x26
    mul     x6, x3, x4
    madd    w7, w3, w4, w5
    msub    x8, x3, x5, x4
    smull   x9, w3, w4
    umull   x10, w4, w5
    smaddl  x11, w5, w3, x4
    umsubl  x12, w3, w5, x6
    smulh   x13, x3, x4
    umulh   x14, x4, x5
    udiv    x15, x3, x4
    sdiv    w16, w5, w4
    and     x17, x3, #7
    sdiv    x17, x4, x17               // sometimes by zero
    udiv    w18, w5, wzr               // by zero: 0
    mov     x19, #0x8000000000000000
    mov     x25, #-1
    sdiv    x19, x19, x25              // overflow: INT64_MIN
    add     x24, x24, x6
    eor     x24, x24, x8
    add     x24, x24, x11
    eor     x24, x24, x13
    add     x24, x24, x14
    eor     x24, x24, x15
    add     x24, x24, x17
    cmp     x3, x4
    csel    x6, x3, x4, lt
    csinc   w7, w4, w5, hs
    csinv   x8, x5, x3, vs
    csneg   w9, w3, w4, le
    cset    x10, hi
    csetm   w11, mi
    ccmp    x3, x5, #4, ne
    ccmn    w4, #3, #2, ge
    cinc    x12, x3, eq
    adds    x13, x3, x3
    b.cc    1f
    add     x24, x24, #1
1:  b.vs    2f
    add     x24, x24, #2
2:  b.pl    3f
    add     x24, x24, #4
3:  cbz     x12, 4f
    add     x24, x24, x12
4:  cbnz    w17, 5f
    add     x24, x24, #8
5:  tbz     x3, #37, 6f
    add     x24, x24, #16
6:  tbnz    w4, #5, 7f
    add     x24, x24, #32
7:  bl      leaf
    adr     x25, leaf
    blr     x25
    adr     x25, 8f
    br      x25
    add     x24, x24, #64               // skipped
8:  and     x6, x3, #3                 // computed jump through a table
    adr     x7, jump_table
    ldr     x8, [x7, x6, lsl #3]
    br      x8
jump_back:

    /* --- loads and stores --------------------------------------------------------------------- */
    and     x6, x3, #0x1f8
    add     x7, x22, x6                 // x7 = somewhere in the first 512 bytes of data
    str     x3, [x7]
    str     w4, [x7, #8]
    strh    w5, [x7, #12]
    strb    w3, [x7, #14]
    strb    w4, [x7, #15]
    ldr     x8, [x7]
    ldr     w9, [x7, #8]
    ldrh    w10, [x7, #12]
    ldrb    w11, [x7, #15]
    ldrsb   x12, [x7, #14]
    ldrsb   w13, [x7, #15]
    ldrsh   x14, [x7, #12]
    ldrsh   w15, [x7, #12]
    ldrsw   x16, [x7, #8]
    ldur    x17, [x7, #3]
    stur    w5, [x7, #-5]
    ldur    w18, [x7, #-5]
    add     x24, x24, x8
    eor     x24, x24, x9
    add     x24, x24, x10
    eor     x24, x24, x11
    add     x24, x24, x12
    eor     x24, x24, x13
    add     x24, x24, x14
    eor     x24, x24, x15
    add     x24, x24, x16
    eor     x24, x24, x17
    add     x24, x24, x18
    add     x7, x22, #0x400
    str     x4, [x7, #16]!
    str     x5, [x7], #8
    ldr     x8, [x7, #-8]!
    ldr     x9, [x7], #-8
    strh    w3, [x7, #2]!
    ldrsh   x10, [x7], #-2
    stp     x3, x4, [x7]
    stp     w5, w6, [x7, #16]
    ldp     x11, x12, [x7]
    ldpsw   x13, x14, [x7, #16]
    stp     x5, x3, [x7, #-32]!
    ldp     x15, x16, [x7], #32
    ldp     w17, w18, [x7, #-28]
    mov     x6, #24
    str     x20, [x22, x6]
    ldr     x25, [x22, x6]
    mov     w6, #3
    str     w4, [x22, w6, uxtw #2]
    ldr     w26, [x22, w6, uxtw #2]
    mov     x6, #-1
    add     x7, x22, #16
    ldrb    w27, [x7, x6]
    ldrh    w28, [x7, w6, sxtw]
    ldr     x29, literal
    ldr     w30, literal + 4
    ldrsw   x19, literal
    add     x24, x24, x8
    eor     x24, x24, x9
    add     x24, x24, x10
    eor     x24, x24, x11
    add     x24, x24, x12
    eor     x24, x24, x13
    add     x24, x24, x14
    eor     x24, x24, x15
    add     x24, x24, x16
    eor     x24, x24, x17
    add     x24, x24, x18
    eor     x24, x24, x25
    add     x24, x24, x26
    eor     x24, x24, x27
    add     x24, x24, x28
    eor     x24, x24, x29
    add     x24, x24, x30
    eor     x24, x24, x19
    stp     x24, x3, [sp, #-16]!
    ldp     x6, x7, [sp], #16
    sub     sp, sp, #32
    str     x24, [sp, #8]
    ldr     x8, [sp, #8]
    add     sp, sp, #32

    /* --- exclusives and ordered accesses ------------------------------------------------------ */
    add     x7, x22, #0x600
9:  ldxr    x8, [x7]
    add     x8, x8, x3
    stxr    w9, x8, [x7]
    cbnz    w9, 9b
10: ldaxr   w10, [x7, #0]
    eor     w10, w10, w4
    stlxr   w9, w10, [x7]
    cbnz    w9, 10b
11: ldxp    x11, x12, [x7]
    add     x11, x11, #1
    stxp    w9, x11, x12, [x7]
    cbnz    w9, 11b
    ldxrb   w13, [x7]
    clrex
    stxrb   w9, w13, [x7]              // fails after CLREX
    add     x24, x24, x9
    ldxrh   w13, [x7]
    stxrh   w9, w13, [x7]
    add     x24, x24, x9
    stlr    x3, [x7, #0]
    ldar    x14, [x7]
    stlrb   w4, [x7]
    ldarh   w15, [x7]
    dmb     ish
    dsb     sy
    isb
    add     x24, x24, x14
    eor     x24, x24, x15

    /* --- CRC32 -------------------------------------------------------------------------------- */
    crc32b  w6, w24, w3
    crc32h  w6, w6, w4
    crc32w  w6, w6, w5
    crc32x  w6, w6, x3
    crc32cb w7, w6, w4
    crc32ch w7, w7, w5
    crc32cw w7, w7, w3
    crc32cx w7, w7, x4
    add     x24, x24, x7

    /* --- scalar floating point ---------------------------------------------------------------- */
    asr     x6, x3, #40
    asr     x7, x4, #44
    scvtf   d0, x6
    scvtf   d1, x7
    ucvtf   s2, w5
    scvtf   s3, w6
    fmov    d4, #1.25
    fadd    d5, d0, d1
    fsub    d6, d0, d4
    fmul    d7, d5, d6
    fdiv    d8, d7, d4
    fmadd   d9, d0, d1, d4
    fmsub   d10, d0, d4, d1
    fnmul   d11, d1, d4
    fabs    d12, d1
    fneg    d13, d0
    fsqrt   d14, d12
    fmax    d15, d0, d1
    fmin    d16, d0, d1
    fadd    s17, s2, s3
    fmul    s18, s2, s3
    fdiv    s19, s3, s2
    fcvt    d20, s19
    fcvt    s21, d9
    fcmp    d0, d1
    fcsel   d22, d0, d1, gt
    cset    x8, mi
    fcmpe   s2, #0.0
    fccmp   d0, d4, #2, ne
    cset    x9, eq
    fcvtzs  x10, d9
    fcvtzu  w11, d5
    fcvtns  x12, d8
    fcvtms  w13, s18
    fcvtps  x14, d14
    fcvtas  x15, d7
    fmov    x16, d9
    fmov    d23, x3
    fmov    s24, w4
    fmov    w17, s17
    add     x24, x24, x8
    eor     x24, x24, x9
    add     x24, x24, x10
    eor     x24, x24, x11
    add     x24, x24, x12
    eor     x24, x24, x13
    add     x24, x24, x14
    eor     x24, x24, x15
    add     x24, x24, x16
    eor     x24, x24, x17
    str     d9, [x22, #0x700]
    ldr     q25, [x22, #0x700]
    add     x6, x22, #0x700
    stp     s2, s3, [x6, #16]
    ldp     d26, d27, [x6]

    /* --- Advanced SIMD ------------------------------------------------------------------------ */
    fmov    d0, x3
    ins     v0.d[1], x4
    dup     v1.4s, w5
    ins     v1.s[2], w3
    movi    v2.16b, #0x5a
    movi    v3.2d, #0xff00ff0000ff00ff
    mvni    v4.4s, #0x12, lsl #8
    add     v5.4s, v0.4s, v1.4s
    sub     v6.8h, v0.8h, v1.8h
    add     v7.2d, v0.2d, v1.2d
    mul     v8.4s, v0.4s, v1.4s
    and     v9.16b, v0.16b, v2.16b
    orr     v10.16b, v0.16b, v3.16b
    eor     v11.16b, v1.16b, v4.16b
    bic     v12.16b, v0.16b, v2.16b
    cmeq    v13.4s, v0.4s, v1.4s
    cmgt    v14.8h, v0.8h, v1.8h
    cmhi    v15.16b, v0.16b, v1.16b
    shl     v16.4s, v0.4s, #5
    ushr    v17.2d, v0.2d, #7
    sshr    v18.8h, v1.8h, #3
    ext     v19.16b, v0.16b, v1.16b, #5
    zip1    v20.4s, v0.4s, v1.4s
    uzp2    v21.8h, v0.8h, v1.8h
    trn1    v22.16b, v0.16b, v1.16b
    addv    s23, v0.4s
    umaxv   b24, v1.16b
    uminv   h25, v0.8h
    cnt     v26.16b, v0.16b
    rev64   v27.16b, v0.16b
    movi    v28.16b, #0x0f
    and     v28.16b, v28.16b, v1.16b
    tbl     v28.16b, {v0.16b}, v28.16b
    umov    w6, v5.s[1]
    umov    x7, v7.d[1]
    smov    x8, v6.h[3]
    fmov    x9, d8
    umov    x10, v28.d[0]
    umov    x11, v23.d[0]
    add     x24, x24, x6
    eor     x24, x24, x7
    add     x24, x24, x8
    eor     x24, x24, x9
    add     x24, x24, x10
    eor     x24, x24, x11
    add     x12, x22, #0x800
    st1     {v0.16b, v1.16b}, [x12]
    ld1     {v29.4s}, [x12], #16
    ld1     {v30.2d}, [x12]
    st1     {v5.4s, v6.4s, v7.4s}, [x12]
    ld1     {v31.16b}, [x12]

    /* --- more loads/stores, cache and translation maintenance ----------------------------------- */
    add     x12, x22, #0x900
    stnp    x3, x4, [x12]
    ldnp    x6, x7, [x12]
    prfm    pldl1keep, [x12]
    str     q0, [x12, #32]!
    ldr     q29, [x12], #-32
    ldr     s30, [x12, #4]
    ldur    h28, [x12, #6]
    sttr    x5, [x23, #16]              // unprivileged: EL0 data is EL0 RW
    ldtr    x8, [x23, #16]
    ldtrsw  x9, [x23, #20]
    ldtrb   w10, [x23, #17]
    add     x24, x24, x6
    eor     x24, x24, x7
    add     x24, x24, x8
    eor     x24, x24, x9
    add     x24, x24, x10
    add     x12, x22, #0xa00
    stp     x3, x3, [x12]
    dc      zva, x12
    ldp     x6, x7, [x12]
    orr     x24, x24, x6
    eor     x24, x24, x7
    at      s1e1r, x22                  // normal memory: PAR_EL1.SH from the descriptor, NS, bit 11
    mrs     x7, par_el1
    eor     x24, x24, x7
    mov     x7, #0x09000000
    at      s1e1w, x7                   // device memory: SH as in the descriptor (QEMU 7.2)
    mrs     x7, par_el1
    eor     x24, x24, x7
    at      s1e0w, x22                  // EL1-only page: fault reported in PAR
    mrs     x7, par_el1
    eor     x24, x24, x7
    tlbi    vmalle1
    dsb     ish
    isb
    dc      civac, x12
    ic      iallu
    isb
12: ldaxp   x6, x7, [x12]
    stlxp   w9, x7, x6, [x12]
    cbnz    w9, 12b

    /* --- more floating point and SIMD --------------------------------------------------------- */
    frintn  d6, d8
    frintz  d7, d8
    frintm  s8, s19
    frintp  s9, s19
    frinta  d10, d14
    frintx  d11, d14
    fcvtzs  x6, d6
    fcvtzs  x7, d7
    fcvtzs  w8, s8
    fcvtzs  w9, s9
    fcvtzs  x10, d10
    fcvtzs  x11, d11
    add     x24, x24, x6
    eor     x24, x24, x7
    add     x24, x24, x8
    eor     x24, x24, x9
    add     x24, x24, x10
    eor     x24, x24, x11
    // FPCR.RMode is written and read back, and FRINTI follows it; arithmetic is left at
    // round-to-nearest: the core rounds FADD/FDIV/SCVTF to nearest whatever RMode says.
    mov     x6, #(3 << 22)              // FPCR.RMode = towards zero
    msr     fpcr, x6
    frinti  d12, d8
    mrs     x7, fpcr
    msr     fpcr, xzr
    fcvtzs  x8, d12
    add     x24, x24, x8
    eor     x24, x24, x7
    uaddlv  h16, v0.16b
    xtn     v17.8b, v0.8h
    ushll   v18.2d, v1.2s, #3
    umull   v19.2d, v0.2s, v1.2s
    addp    v20.4s, v0.4s, v1.4s
    abs     v21.4s, v1.4s
    neg     v22.2d, v0.2d
    cmtst   v23.16b, v0.16b, v1.16b
    fmov    v24.4s, #1.5
    ins     v24.s[1], v3.s[0]
    ins     v24.s[2], v2.s[0]
    ins     v25.d[0], v9.d[0]
    ins     v25.d[1], v5.d[0]
    sli     v27.2d, v0.2d, #12
    ushr    d28, d0, #9
    umov    x6, v16.d[0]
    umov    x7, v19.d[1]
    umov    x8, v25.d[0]
    add     x24, x24, x6
    eor     x24, x24, x7
    add     x24, x24, x8

    /* --- floating-point special cases: infinities, NaNs, signed zeros, saturation ------------- */
    msr     fpsr, xzr
    fmov    d0, #1.0
    fmov    d1, xzr
    fdiv    d2, d0, d1                  // +inf, DZC
    fneg    d3, d0
    fsqrt   d4, d3                      // default NaN, IOC
    ldr     x6, =0x7ff4000000000123     // signalling NaN with a payload
    fmov    d5, x6
    ldr     x6, =0x7ff8000000000456     // quiet NaN with a payload
    fmov    d6, x6
    fadd    d7, d6, d0                  // propagates the quiet NaN
    fadd    d8, d0, d5                  // quiets the signalling NaN, IOC
    fmax    d9, d5, d6                  // signalling NaN wins
    fneg    d10, d1
    fmin    d11, d1, d10                // -0
    fmax    d12, d10, d1                // +0
    fmaxnm  d13, d6, d0                 // the number
    ldr     x6, =0x7e37e43c8800759c     // 1e300
    fmov    d14, x6
    fcvtzs  x7, d14                     // saturates, IOC
    fcvtzu  w8, d3                      // negative to unsigned: 0, IOC
    fcvtzs  x9, d6                      // NaN: 0, IOC
    fcvt    s15, d14                    // overflows to +inf
    fcmp    d6, d0                      // unordered: NZCV = 0011
    cset    x10, vs
    fcmpe   d2, d2
    cset    x11, eq
    fmul    d16, d2, d1                 // inf * 0: default NaN, IOC
    fsub    d17, d2, d2                 // inf - inf
    add     x24, x24, x7
    eor     x24, x24, x8
    add     x24, x24, x9
    eor     x24, x24, x10
    add     x24, x24, x11
    mrs     x6, fpsr                    // IOC, DZC, OFC, IXC accumulated above
    add     x24, x24, x6

    /* --- every FP arithmetic op and conversion under each FPCR.RMode, with its FPSR flags -------
     * d0/s0.. moderate values, d2/d3 raw random bit patterns (overflow, underflow, subnormals). */
    mov     x13, #0
20: lsl     x6, x13, #22
    msr     fpcr, x6
    msr     fpsr, xzr
    and     x6, x3, #0x800fffffffffffff
    orr     x6, x6, #0x3fe0000000000000 // ±[0.5, 1)
    fmov    d0, x6
    and     x7, x4, #0x800fffffffffffff
    orr     x7, x7, #0x4000000000000000 // ±[2, 4)
    fmov    d1, x7
    fmov    d2, x5
    ror     x8, x5, #7
    fmov    d3, x8
    fadd    d4, d0, d1
    fsub    d5, d0, d1
    fmul    d6, d0, d1
    fdiv    d7, d0, d1
    fsqrt   d8, d1
    fmadd   d9, d0, d1, d4
    fmsub   d10, d0, d1, d6             // the exact error of the rounded product
    fnmadd  d11, d2, d3, d0
    fnmsub  d12, d2, d0, d1
    fmul    d13, d2, d3
    fadd    d14, d2, d3
    fdiv    d15, d2, d3
    fnmul   d16, d0, d2
    fcvt    s17, d2
    fcvt    s18, d7
    fcvt    h19, d7
    fcvt    h20, s17
    fcvt    d21, h19
    fcvt    s22, h20
    scvtf   d23, x3
    ucvtf   s24, x4
    scvtf   s25, w5
    frinti  d26, d7
    frintx  d27, d15
    fsub    d28, d0, d0                 // exact zero: -0 when rounding towards minus infinity
    scvtf   d29, x3, #20
    ucvtf   s30, w4, #3
    fmul    d31, d2, d2
    fcvtzs  x9, d4, #10
    fcvtzu  w10, s18, #5
    add     x24, x24, x9
    eor     x24, x24, x10
    and     w9, w3, #0x807fffff         // single precision: ±[0.5, 1), ±[2, 4) and raw patterns
    orr     w9, w9, #0x3f000000
    fmov    s0, w9
    and     w10, w4, #0x807fffff
    orr     w10, w10, #0x40000000
    fmov    s1, w10
    fmov    s2, w5
    fmov    s3, w8
    fadd    s4, s0, s1
    fsub    s5, s2, s3
    fmul    s6, s0, s1
    fmul    s7, s2, s3
    fdiv    s8, s0, s1
    fdiv    s9, s2, s3
    fsqrt   s10, s1
    fmadd   s11, s0, s1, s4
    fnmsub  s12, s2, s3, s0
    fcvtzs  w11, s0
    fcvtns  x12, d15
    add     x24, x24, x11
    eor     x24, x24, x12
    mrs     x9, fpsr
    add     x24, x24, x9
    add     x13, x13, #1
    cmp     x13, #4
    b.ne    20b
    msr     fpcr, xzr
    msr     fpsr, xzr

    /* --- unaligned accesses: plain ones are allowed on normal memory, exclusives fault ------- */
    add     x12, x22, #0xb01
    str     x3, [x12]
    ldr     x6, [x12, #2]
    ldrh    w7, [x12]
    add     x24, x24, x6
    eor     x24, x24, x7
    ldxr    x8, [x12]                   // alignment fault (the handler skips it)
    clrex

    /* --- SIMD post-index by register, FP immediates, exception-state registers ----------------- */
    add     x12, x22, #0xc00
    mov     x6, #16
    ld1     {v0.4s, v1.4s}, [x12], x6
    fmov    d9, #-3.75
    mrs     x6, cntfrq_el0
    mrs     x7, sp_el0
    msr     far_el1, x3
    mrs     x8, far_el1
    msr     esr_el1, x4
    mrs     x9, esr_el1
    msr     elr_el1, x5
    mrs     x10, elr_el1
    msr     spsr_el1, x3
    mrs     x11, spsr_el1
    ldr     x6, [x22, x6, sxtx #0]

    /* --- bitwise selects, widening/narrowing SIMD, cache and TLB maintenance, DAIF ------------ */
    bsl     v8.16b, v0.16b, v1.16b
    bit     v9.16b, v0.16b, v1.16b
    bif     v10.16b, v0.16b, v1.16b
    not     v11.16b, v0.16b
    rev16   v12.16b, v1.16b
    smax    v13.4s, v0.4s, v1.4s
    umin    v14.8h, v0.8h, v1.8h
    umlal   v16.2d, v0.2s, v1.2s
    saddlp  v17.2d, v0.4s
    shrn    v18.8b, v0.8h, #3
    ic      ivau, x22
    dc      cvac, x22
    lsr     x6, x22, #12
    tlbi    vae1is, x6
    tlbi    aside1, xzr
    dsb     ish
    isb
    mrs     x6, daif
    msr     daif, x6
    ldr     x6, =0x3fb999999999999a     // 0.1
    fmov    d8, x6
    fmov    d9, #10.0
    fmov    d10, #-1.0
    fmadd   d11, d8, d9, d10            // fused: 2^-54 (unfused it would be 0)

    /* --- structure loads/stores, vector FP, saturating and halving integer SIMD ---------------- */
    add     x12, x22, #0xd00
    st1     {v0.16b, v1.16b}, [x12]
    ld1r    {v2.4s}, [x12]
    ld2r    {v3.8h, v4.8h}, [x12], #4
    ld1     {v5.s}[2], [x12]
    mov     x6, #3
    ld3     {v6.b, v7.b, v8.b}[9], [x12], x6
    sub     x12, x12, x6
    st1     {v1.d}[1], [x12]
    st4     {v0.h, v1.h, v2.h, v3.h}[5], [x12], #8
    ld2     {v10.4s, v11.4s}, [x12]
    ld3     {v12.8b, v13.8b, v14.8b}, [x12], #24
    ld4     {v16.8h, v17.8h, v18.8h, v19.8h}, [x22]
    st2     {v10.2d, v11.2d}, [x12]
    st3     {v5.4s, v6.4s, v7.4s}, [x12], #48
    ld4r    {v20.2d, v21.2d, v22.2d, v23.2d}, [x12]
    scvtf   v24.4s, v0.4s
    ucvtf   v25.2d, v1.2d, #12
    fadd    v26.4s, v24.4s, v2.4s
    fmul    v27.2d, v25.2d, v1.2d
    fmla    v26.4s, v24.4s, v25.s[3]
    fdiv    v28.2d, v27.2d, v25.2d
    fabs    v29.4s, v26.4s
    fcmgt   v30.2d, v28.2d, #0.0
    fcvtzs  v31.4s, v26.4s, #4
    faddp   v12.4s, v24.4s, v26.4s
    fmaxnmv s13, v26.4s
    fcvtn   v14.4h, v24.4s
    fcvtl   v15.2d, v24.2s
    sqadd   v16.8h, v0.8h, v1.8h
    uqsub   v17.16b, v0.16b, v1.16b
    urhadd  v18.4s, v0.4s, v1.4s
    mla     v19.8h, v0.8h, v1.8h
    sqxtn   v20.8b, v16.8h
    sqxtun2 v20.16b, v1.8h
    uqadd   d21, d0, d1
    sshl    v22.2d, v0.2d, v1.2d
    mrs     x6, fpsr                    // QC from the saturating ones
    add     x24, x24, x6
    msr     fpsr, xzr

    /* --- hints, a store-exclusive without a reservation, an exception taken from EL1t -------- */
    sevl
    wfe
    yield
    nop
    csdb
    stxr    w6, x3, [x22]              // no reservation: fails
    add     x24, x24, x6
    mov     x7, sp
    msr     spsel, #0
    mov     sp, x7
    svc     #0x77                       // taken from EL1t: vector 0x000
    msr     spsel, #1
    add     x24, x24, x7

    /* --- system registers --------------------------------------------------------------------- */
    msr     tpidr_el0, x3
    mrs     x6, tpidr_el0
    msr     tpidr_el1, x4
    mrs     x7, tpidr_el1
    msr     tpidrro_el0, x5
    mrs     x8, tpidrro_el0
    mrs     x9, nzcv
    msr     nzcv, x3
    mrs     x10, nzcv
    mrs     x11, currentel
    mrs     x12, daif
    msr     daifclr, #4                 // unmask SError only: nothing is pending
    msr     daifset, #4
    mrs     x13, spsel
    msr     spsel, #0
    mov     x14, sp
    msr     spsel, #1
    mrs     x15, sctlr_el1
    mrs     x16, midr_el1
    msr     contextidr_el1, x5
    mrs     x17, contextidr_el1
    add     x24, x24, x6
    eor     x24, x24, x7
    add     x24, x24, x8
    eor     x24, x24, x9
    add     x24, x24, x10
    eor     x24, x24, x11
    add     x24, x24, x12
    eor     x24, x24, x13
    add     x24, x24, x14
    eor     x24, x24, x16
    eor     x24, x24, x17

    /* --- exceptions: SVC, BRK, a translation fault, a permission fault ------------------------ */
    svc     #0x42
    brk     #7
    mov     x6, #0x80000000             // L1[2]: not mapped
    ldr     x7, [x6, #8]
    ldr     x6, =el0_entry
    str     x3, [x6]                    // EL0 code is read-only: permission fault

    /* --- EL0 excursion ------------------------------------------------------------------------ */
    ldr     x6, =el0_entry
    msr     elr_el1, x6
    mov     x6, #0x3c0                  // EL0t, DAIF masked
    msr     spsr_el1, x6
    add     x6, x23, #0x1000
    msr     sp_el0, x6
    eret
    .global el0_return
el0_return:
    add     x24, x24, x19

    subs    x21, x21, #1
    b.ne    main_loop

    ldr     x6, =result
    str     x24, [x6]
    .global finish
finish:
    movz    w0, #0x0008
    movk    w0, #0x8400, lsl #16        // PSCI SYSTEM_OFF
    hvc     #0
13: b       13b

leaf:
    add     x24, x24, #3
    ret

jump_table_0: eor x24, x24, #1
    b       jump_back
jump_table_1: eor x24, x24, #2
    b       jump_back
jump_table_2: add x24, x24, x3
    b       jump_back
jump_table_3: sub x24, x24, x4
    b       jump_back

/* --- exception handler: x9..x12 are scratch (the main code treats them as clobbered) ------------ */
sync_current:
    mrs     x9, esr_el1
    mrs     x10, elr_el1
    mrs     x11, spsr_el1
    mrs     x12, far_el1
    add     x24, x24, x9
    eor     x24, x24, x10
    add     x24, x24, x11
    lsr     x9, x9, #26
    cmp     x9, #0x15                   // SVC: ELR already past it
    b.eq    14f
    cmp     x9, #0x25                   // data abort: skip the access, note FAR
    b.ne    15f
    eor     x24, x24, x12
15: add     x10, x10, #4                // BRK / abort: skip the instruction
    msr     elr_el1, x10
14: eret

sync_lower:
    mrs     x9, esr_el1
    mrs     x10, elr_el1
    add     x24, x24, x9
    lsr     x11, x9, #26
    cmp     x11, #0x15
    b.ne    16f
    and     x9, x9, #0xffff
    cmp     x9, #1                      // SVC #1: back to EL1 at el0_return
    b.ne    17f
    adr     x10, el0_return
    msr     elr_el1, x10
    mov     x10, #0x3c5
    msr     spsr_el1, x10
17: eret
16: cmp     x11, #0x24                  // data abort from EL0: skip it, note FAR
    b.ne    18f
    mrs     x12, far_el1
    eor     x24, x24, x12
    b       19f
18: cbz     x11, 19f                    // undefined at EL0: skip it
    cmp     x11, #0x3c                  // BRK: skip it
    b.eq    19f
    cmp     x11, #0x18                  // trapped system register access: skip it
    b.ne    unexpected
19: add     x10, x10, #4
    msr     elr_el1, x10
    eret

sync_current_sp0:
    mrs     x9, esr_el1
    add     x24, x24, x9
    mrs     x10, spsr_el1
    add     x24, x24, x10
    eret

unexpected:
    mrs     x9, esr_el1
    b       finish

    .balign 8
literal: .quad 0x80000000fedcba98
jump_table: .quad jump_table_0, jump_table_1, jump_table_2, jump_table_3
    .ltorg

    .balign 2048
vectors:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    .balign 128
    .if \i == 0
    b       sync_current_sp0
    .elseif \i == 4
    b       sync_current
    .elseif \i == 8
    b       sync_lower
    .else
    b       unexpected
    .endif
    .endr

/* --- EL0 code (read-only, executable at EL0 and EL1) ------------------------------------------- */
    .section .el0text, "ax"
el0_entry:
    mov     x6, sp
    str     x3, [x6, #-16]!
    ldr     x7, [x6]
    add     x19, x7, x4
    mul     x19, x19, x5
    ldr     x8, [x22]                   // EL1 data from EL0: permission fault
    mrs     x8, midr_el1                // undefined at EL0
    mrs     x8, tpidr_el0
    add     x19, x19, x8
    mrs     x8, ctr_el0                 // SCTLR_EL1.UCT = 0: trapped (EC 0x18)
    mrs     x8, cntvct_el0              // CNTKCTL_EL1.EL0VCTEN = 0: trapped
    dc      zva, x6                     // SCTLR_EL1.DZE = 0: trapped (EC 0x18)
    brk     #9                          // a debug exception from EL0
    hvc     #0                          // undefined at EL0
    fmov    d0, x19
    fadd    d1, d0, d0
    svc     #3                          // an SVC that returns to EL0
    svc     #1                          // back to EL1

    .section .data
    .balign 4096
pt_l1:  .space 4096
pt_l2:  .space 4096
data:   .space 4096
    .global result
result: .quad 0
    .balign 16
stack:  .space 4096
stack_top:

    .section .el0data, "aw"
el0data: .space 8192
