/*
 * Bare-metal EL1 program for QEMU virt (cortex-a53, entered at EL1, MMU off) and our core: exercises
 * the exception model (SVC, BRK, UDF, external abort, EL0 traps), stage-1 translation (TTBR0/TTBR1,
 * 1 GiB / 2 MiB blocks, 4 KiB pages, AF, AP, XN), AT/PAR_EL1, DC ZVA, exclusives, and prints what it
 * sees on the PL011. Both machines must print the same text. Ends with PSCI SYSTEM_OFF.
 */
#define UART 0x09000000
#define PAGES 0x40200000

    .text
    .global _start
_start:
    mov     x28, #UART
    adr     x0, vectors
    msr     vbar_el1, x0
    isb
    adr     x0, s_hello
    bl      puts

    /* 1. synchronous exceptions at EL1 with the MMU off */
    svc     #0x42
    brk     #7
    .word   0x00000000                  // UDF #0
    mov     x1, #0x0000000100000000     // no memory there: external abort
    ldr     x2, [x1]
    mrs     x3, midr_el1
    bl      puthex_nl_x3

    /* 2. page tables: TTBR0 39-bit, L1 block for devices, L2 block for the image, L3 pages at PAGES */
    adr     x0, pt_l1
    adr     x1, pt_l2
    orr     x2, x1, #3                  // table
    str     x2, [x0, #8]                // L1[1] -> L2 (0x40000000..)
    mov     x2, #0x0000000000000401     // L1[0]: block 0..1 GiB, device (attr 0), AF
    str     x2, [x0]
    mov     x2, #0x40000000
    movk    x2, #0x0405                 // L2[0]: 2 MiB block 0x40000000, normal (attr 1), AF
    str     x2, [x1]
    adr     x3, pt_l3
    orr     x2, x3, #3
    str     x2, [x1, #8]                // L2[1] -> L3 (0x40200000..)
    mov     x4, #PAGES
    add     x2, x4, #0x407              // page 0: normal RW EL1, AF
    str     x2, [x3, #0]
    add     x2, x4, #0x1000
    orr     x2, x2, #0x007              // page 1: AF = 0
    str     x2, [x3, #8]
    add     x2, x4, #0x2000
    add     x2, x2, #0x487              // page 2: AP = 10 read-only EL1
    str     x2, [x3, #16]
    str     xzr, [x3, #24]              // page 3: invalid
    add     x2, x4, #0x4000
    add     x2, x2, #0x447              // page 4: AP = 01 EL0 RW, EL0 executable
    orr     x2, x2, #(1 << 53)          // PXN
    str     x2, [x3, #32]
    add     x2, x4, #0x5000
    add     x2, x2, #0x407              // page 5: EL1 only
    str     x2, [x3, #40]
    add     x2, x4, #0x6000
    add     x2, x2, #0x407
    orr     x2, x2, #(1 << 54)          // page 6: UXN (and EL1 data)
    str     x2, [x3, #48]
    /* TTBR1: one 1 GiB block at VA 0xffffff8000000000 -> PA 0x40000000 */
    adr     x0, pt1_l1
    mov     x2, #0x40000000
    movk    x2, #0x0405
    str     x2, [x0]

    mov     x0, #0xff00                 // attr1 = 0xff, attr0 = 0x00
    msr     mair_el1, x0
    ldr     x0, =0x00000002b5193519     // TCR: T0SZ=T1SZ=25, 4K/4K, WBWA, inner shareable, IPS 40-bit
    msr     tcr_el1, x0
    adr     x0, pt_l1
    msr     ttbr0_el1, x0
    adr     x0, pt1_l1
    msr     ttbr1_el1, x0
    isb
    mrs     x0, sctlr_el1
    orr     x0, x0, #1
    msr     sctlr_el1, x0
    isb
    adr     x0, s_mmu
    bl      puts

    /* 3. accesses through the tables */
    mov     x4, #PAGES
    ldr     x5, =0x1122334455667788
    str     x5, [x4, #0x10]
    ldr     x3, [x4, #0x10]
    bl      puthex_nl_x3
    add     x6, x4, #0x1000
    ldr     x3, [x6]                    // access flag fault, level 3
    add     x6, x4, #0x2000
    ldr     x3, [x6]                    // read-only page: read ok
    str     x3, [x6]                    // permission fault, write
    add     x6, x4, #0x3000
    ldr     x3, [x6]                    // translation fault, level 3
    ldr     x6, =0x40400000
    ldr     x3, [x6]                    // translation fault, level 2
    ldr     x6, =0x80000000
    ldr     x3, [x6]                    // translation fault, level 1
    ldr     x6, =0xffffff8000200010     // TTBR1 alias of PAGES + 0x10
    ldr     x3, [x6]
    bl      puthex_nl_x3
    ldr     x6, =0x0000800000000000     // outside both ranges: level 0 translation fault
    ldr     x3, [x6]

    /* remap PAGES to the physical page of PAGES + 0x6000, TLBI by VA, read through the new mapping */
    ldr     x3, [x4, #0x10]
    bl      puthex_nl_x3
    add     x6, x4, #0x6000
    ldr     x5, =0xabcdef0123456789
    str     x5, [x6, #0x10]
    adr     x3, pt_l3
    add     x2, x4, #0x6000
    add     x2, x2, #0x407
    str     x2, [x3, #0]
    dsb     ishst
    lsr     x2, x4, #12
    tlbi    vae1is, x2
    dsb     ish
    isb
    ldr     x3, [x4, #0x10]
    bl      puthex_nl_x3
    adr     x3, pt_l3
    add     x2, x4, #0x407
    str     x2, [x3, #0]
    dsb     ishst
    tlbi    vmalle1
    dsb     ish
    isb
    ldr     x3, [x4, #0x10]
    bl      puthex_nl_x3

    /* AT */
    add     x6, x4, #0x2000
    at      s1e1w, x6
    isb
    mrs     x3, par_el1
    bl      puthex_nl_x3
    at      s1e1r, x6
    isb
    mrs     x3, par_el1
    and     x3, x3, #0xfffffffff000     // drop IMPLEMENTATION DEFINED attribute bits
    bl      puthex_nl_x3

    /* DC ZVA and exclusives */
    add     x6, x4, #0x40
    stp     x5, x5, [x6]
    dc      zva, x6
    ldp     x3, x7, [x6]
    orr     x3, x3, x7
    bl      puthex_nl_x3
    ldxr    x3, [x6]
    add     x3, x3, #5
    stxr    w7, x3, [x6]
    ldr     x3, [x6]
    add     x3, x3, x7
    bl      puthex_nl_x3

    /* executing from a UXN page at EL1 is fine; PXN page (EL0-writable) faults */
    add     x6, x4, #0x4000
    adr     x0, el0_code
    adr     x1, el0_code_end
1:  ldr     w2, [x0], #4
    str     w2, [x6], #4
    cmp     x0, x1
    b.ne    1b
    ic      iallu
    dsb     sy
    isb
    add     x6, x4, #0x4000
    blr     x6                           // instruction abort: permission (PXN), handler returns to lr

    /* 4. EL0 */
    ldr     x0, =(PAGES + 0x4100)        // EL0 data (own page)
    add     x3, x4, #0x5000              // EL1-only page
    mov     x2, #0
    msr     spsr_el1, x2                 // EL0t, interrupts unmasked
    add     x2, x4, #0x4000
    msr     elr_el1, x2
    ldr     x2, =(PAGES + 0x4f00)
    msr     sp_el0, x2
    eret
el1_resume:
    adr     x0, s_back
    bl      puts
    mov     x3, x9                       // value EL0 stored
    bl      puthex_nl_x3
    ldr     x6, =(PAGES + 0x4100)
    ldr     x3, [x6, #8]
    bl      puthex_nl_x3

    adr     x0, s_bye
    bl      puts
    movz    w0, #0x0008
    movk    w0, #0x8400, lsl #16
    hvc     #0
2:  b       2b

el0_code:
    ldr     x1, [x0]
    add     x1, x1, #1
    str     x1, [x0, #8]
    ldr     x2, [x3]                     // permission fault from EL0
    mrs     x5, midr_el1                 // undefined at EL0
    mrs     x5, ctr_el0                  // SCTLR.UCT = 0: trapped (EC 0x18)
    mov     x9, x1
    svc     #1
    svc     #2                           // "return to EL1"
el0_code_end:

/* --- exception handlers ------------------------------------------------------------------- */
handler:                                // x10 = vector index
    mov     x16, x30
    mrs     x11, esr_el1
    mrs     x12, elr_el1
    mrs     x13, spsr_el1
    adr     x0, s_exc
    bl      puts
    mov     x0, x10
    bl      puthex
    adr     x0, s_esr
    bl      puts
    mov     x0, x11
    bl      puthex
    adr     x0, s_elr
    bl      puts
    mov     x0, x12
    bl      puthex
    adr     x0, s_spsr
    bl      puts
    mov     x0, x13
    bl      puthex
    lsr     x14, x11, #26                // EC
    sub     x15, x14, #0x20
    cmp     x15, #5
    b.hi    3f
    adr     x0, s_far
    bl      puts
    mrs     x0, far_el1
    bl      puthex
3:  mov     w0, #'\n'
    strb    w0, [x28]
    cmp     x14, #0x15
    b.eq    svc_handler
    cmp     x14, #0x21                   // instruction abort at EL1: return to the caller
    b.eq    4f
    add     x12, x12, #4                 // skip the faulting instruction
    msr     elr_el1, x12
    eret
4:  msr     elr_el1, x16
    eret
svc_handler:
    and     x15, x11, #0xffff
    cmp     x15, #2
    b.ne    5f
    adr     x12, el1_resume
    msr     elr_el1, x12
    mov     x13, #0x3c5
    msr     spsr_el1, x13
5:  eret

// puts: x0 = string (clobbers x0, x29)
puts:
    ldrb    w29, [x0], #1
    cbz     w29, 6f
    strb    w29, [x28]
    b       puts
6:  ret

// puthex: x0 (clobbers x20-x24)
puthex:
    mov     x20, #60
7:  lsr     x21, x0, x20
    and     x21, x21, #0xf
    cmp     x21, #10
    add     x22, x21, #'0'
    add     x23, x21, #('a' - 10)
    csel    x21, x22, x23, lo
    strb    w21, [x28]
    subs    x20, x20, #4
    b.pl    7b
    ret

puthex_nl_x3:
    mov     x27, x30
    mov     x0, x3
    bl      puthex
    mov     w0, #'\n'
    strb    w0, [x28]
    ret     x27

s_hello: .asciz "system test\n"
s_mmu:   .asciz "mmu on\n"
s_back:  .asciz "back at EL1\n"
s_bye:   .asciz "bye\n"
s_exc:   .asciz "exception "
s_esr:   .asciz " esr="
s_elr:   .asciz " elr="
s_spsr:  .asciz " spsr="
s_far:   .asciz " far="
    .balign 8
    .ltorg

    .balign 2048
vectors:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    .balign 128
    mov     x10, #\i
    b       handler
    .endr

    .balign 4096
pt_l1:  .space 4096
pt_l2:  .space 4096
pt_l3:  .space 4096
pt1_l1: .space 4096
