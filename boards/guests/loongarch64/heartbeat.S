/*
 * hvisor-ts demo guest (loongarch64, PLV0 in direct address mode): prints a banner with its CPU id,
 * then a heartbeat line once a second from the constant timer's interrupt, idling in between.
 * Position independent: it runs wherever the zone config loads it. Output goes to the ns16550a at
 * 0x1fe0_01e0 (the 3A5000/7A2000 UART0 page, QEMU loongarch virt's serial), polled.
 */
#define UART          0x1fe001e0
#define TICKS_PER_BEAT 100000000         /* the constant timer's 100 MHz */
#define CSR_CRMD   0x0
#define CSR_ECFG   0x4
#define CSR_ESTAT  0x5
#define CSR_EENTRY 0xc
#define CSR_CPUID  0x20
#define CSR_TCFG   0x41
#define CSR_TICLR  0x44

    .section .text.start, "ax"
    .globl _start
_start:
    li.d      $s0, UART
    la.pcrel  $t0, exception_entry
    csrwr     $t0, CSR_EENTRY
    la.pcrel  $a0, banner
    bl        puts
    csrrd     $a0, CSR_CPUID
    bl        putdec
    ori       $a0, $zero, '\n'
    bl        putc
    move      $s1, $zero                 /* beats so far */
    li.d      $t0, 1 << 11               /* ECFG.LIE: the timer */
    csrwr     $t0, CSR_ECFG
    li.d      $t0, TICKS_PER_BEAT | 3    /* periodic, enabled */
    csrwr     $t0, CSR_TCFG
    ori       $t0, $zero, 4              /* CRMD.IE */
    csrxchg   $t0, $t0, CSR_CRMD
1:  idle      0
    b         1b

/* Exceptions and interrupts (VS = 0: one entry, 4 KiB aligned): only the timer is expected. */
    .balign 4096
exception_entry:
    csrrd     $t0, CSR_ESTAT
    bstrpick.d $t1, $t0, 21, 16          /* Ecode: 0 for an interrupt */
    bnez      $t1, unexpected
    ori       $t1, $zero, 1
    csrwr     $t1, CSR_TICLR
    addi.d    $s1, $s1, 1
    la.pcrel  $a0, beat
    bl        puts
    move      $a0, $s1
    bl        putdec
    ori       $a0, $zero, '\n'
    bl        putc
    ertn
unexpected:
    la.pcrel  $a0, oops
    bl        puts
    move      $a0, $t1
    bl        putdec
    ori       $a0, $zero, '\n'
    bl        putc
2:  idle      0
    b         2b

/* putc(a0): waits for THR empty (LSR bit 5), then writes. Clobbers t2. */
putc:
3:  ld.bu     $t2, $s0, 5
    andi      $t2, $t2, 0x20
    beqz      $t2, 3b
    st.b      $a0, $s0, 0
    jr        $ra

/* puts(a0 = NUL-terminated string). Clobbers a0, a1, t2, t3. */
puts:
    move      $t3, $ra
    move      $a1, $a0
4:  ld.bu     $a0, $a1, 0
    beqz      $a0, 5f
    bl        putc
    addi.d    $a1, $a1, 1
    b         4b
5:  jr        $t3

/* putdec(a0): unsigned decimal. Clobbers a0..a3, t2..t4. */
putdec:
    move      $t4, $ra
    la.pcrel  $a2, digits_end
    move      $a3, $a2
    ori       $t3, $zero, 10
6:  mod.du    $a1, $a0, $t3
    div.du    $a0, $a0, $t3
    addi.d    $a1, $a1, '0'
    addi.d    $a3, $a3, -1
    st.b      $a1, $a3, 0
    bnez      $a0, 6b
7:  ld.bu     $a0, $a3, 0
    bl        putc
    addi.d    $a3, $a3, 1
    bne       $a3, $a2, 7b
    jr        $t4

    .section .rodata
banner: .asciz "hvisor-ts demo guest (loongarch64): up on CPU "
beat:   .asciz "heartbeat "
oops:   .asciz "demo guest: unexpected exception, Ecode "

    .section .data
digits: .space 24
digits_end:
