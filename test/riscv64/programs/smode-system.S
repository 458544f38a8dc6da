/*
 * smode-system.S - an S-mode program for the system oracle: runs under OpenSBI (fw_jump) on
 * qemu-system-riscv64 and on our core, logs every trap (scause, stval, sepc - _start) and a few
 * results, then prints the log in hex on the ns16550a at 0x1000_0000 and powers off through SBI SRST.
 * Both runs must print the same text.
 */
    .equ UART, 0x10000000
    .option norvc
    .section .text.boot, "ax"
    .global _start
_start:
    li      s0, UART
    la      s11, log
    la      t0, handler
    csrw    stvec, t0

    /* 1. illegal instruction, ebreak */
    .word   0xffffffff
    ebreak

    /* 1b. stvec is WARL: a write with a reserved mode (2, 3) is ignored whole, a vectored one kept;
     * each logs stvec - handler after writing handler + 0x100 with that mode */
    csrr    t1, stvec
    addi    t2, t1, 0x102
    csrw    stvec, t2
    csrr    t3, stvec
    sub     t3, t3, t1
    sd      t3, 0(s11)
    addi    t2, t1, 0x103
    csrw    stvec, t2
    csrr    t3, stvec
    sub     t3, t3, t1
    sd      t3, 8(s11)
    addi    t2, t1, 0x101
    csrw    stvec, t2
    csrr    t3, stvec
    sub     t3, t3, t1
    sd      t3, 16(s11)
    csrw    stvec, t1
    addi    s11, s11, 24

    /* 2. U-mode: a CSR access is illegal, ecall from U */
    la      t0, user
    csrw    sepc, t0
    li      t0, 0x100
    csrc    sstatus, t0
    sret
user:
    csrr    t1, sstatus
    ecall
    /* the handler returns to S-mode at back_in_s (see handler) */
back_in_s:

    /* 3. Sv39: build tables, identity gigapage for RAM, 4 KiB pages at 0x4000_0000 */
    la      a0, l0
    la      a1, root
    la      a2, l1
    /* root[2] = identity 0x8000_0000 gigapage, RWX, A and D preset */
    li      t0, (0x80000000 >> 12) << 10 | 0xcf
    sd      t0, 16(a1)
    /* root[1] -> l1, l1[0] -> l0 */
    srli    t0, a2, 12
    slli    t0, t0, 10
    ori     t0, t0, 1
    sd      t0, 8(a1)
    srli    t0, a0, 12
    slli    t0, t0, 10
    ori     t0, t0, 1
    sd      t0, 0(a2)
    /* l0[0] = page0 RW (no A/D), l0[1] = page1 R (A), l0[2] = page2 U RW, l0[3] = page0 RW but no X */
    la      t1, page0
    srli    t1, t1, 12
    slli    t1, t1, 10
    ori     t0, t1, 0x7
    sd      t0, 0(a0)
    la      t2, page1
    srli    t2, t2, 12
    slli    t2, t2, 10
    ori     t0, t2, 0x43
    sd      t0, 8(a0)
    la      t3, page2
    srli    t3, t3, 12
    slli    t3, t3, 10
    ori     t0, t3, 0x17
    sd      t0, 16(a0)
    /* satp = Sv39 | root */
    srli    t0, a1, 12
    li      t1, 8 << 60
    or      t0, t0, t1
    csrw    satp, t0
    sfence.vma
    csrr    t0, satp
    sd      t0, 0(s11)
    addi    s11, s11, 8

    li      t1, 0x40000000
    li      t0, 0x1122334455667788
    sd      t0, 0(t1)            /* sets A and D */
    ld      s2, 0(t1)
    li      t1, 0x40001000
    ld      s3, 0(t1)            /* fine: readable */
    sd      zero, 0(t1)          /* store page fault */
    li      t1, 0x40002000
    ld      s4, 0(t1)            /* U page from S without SUM: load page fault */
    li      t0, 1 << 18
    csrs    sstatus, t0
    ld      s4, 0(t1)            /* with SUM */
    csrc    sstatus, t0
    li      t1, 0x40003000
    ld      zero, 0(t1)          /* invalid PTE */
    li      t1, 0x40000000
    jalr    ra, 0(t1)            /* page without X: instruction page fault (handler returns to ra) */
    li      t1, 0x0000004000000000
    ld      zero, 0(t1)          /* not sign-extended */
    /* A/D bits of the leaf PTEs after the accesses */
    la      a0, l0
    ld      t0, 0(a0)
    andi    t0, t0, 0xff
    sd      t0, 0(s11)
    ld      t0, 8(a0)
    andi    t0, t0, 0xff
    sd      t0, 8(s11)
    ld      t0, 16(a0)
    andi    t0, t0, 0xff
    sd      t0, 16(s11)
    sd      s2, 24(s11)
    sd      s4, 32(s11)
    addi    s11, s11, 40

    /* 4. satp modes: Sv48 reads back; an unsupported mode leaves satp unchanged */
    csrr    t2, satp
    li      t0, 15 << 60
    csrw    satp, t0
    csrr    t0, satp
    sd      t0, 0(s11)
    csrw    satp, zero
    sfence.vma
    csrr    t0, satp
    sd      t0, 8(s11)
    addi    s11, s11, 16

    /* 5. misaligned loads and stores complete (QEMU in hardware, OpenSBI or us by emulation) */
    la      t1, mis
    li      t0, 0x0102030405060708
    sd      t0, 3(t1)
    ld      t0, 3(t1)
    sd      t0, 0(s11)
    lw      t0, 5(t1)
    sd      t0, 8(s11)
    addi    s11, s11, 16

    /* 6. interrupts: a software interrupt through SBI IPI to ourselves, then the SBI timer */
    li      t0, 0x222
    csrs    sie, t0
    li      a7, 0x735049
    li      a6, 0
    li      a0, 1
    li      a1, 0
    ecall
    li      t0, 2
    csrs    sstatus, t0          /* SIE: the pending SSIP is taken right here */
    nop
    csrc    sstatus, t0
    rdtime  a0
    li      a1, 100000           /* 10 ms of QEMU's wall-clock timebase */
    add     a0, a0, a1
    li      a7, 0x54494D45
    li      a6, 0
    ecall
    csrs    sstatus, t0
1:  wfi
    j       1b

    /* 7. print the log and power off */
done:
    csrc    sstatus, 2
    la      s1, log
print:
    bgeu    s1, s11, finish
    ld      a1, 0(s1)
    call    puthex
    li      a2, '\n'
    sb      a2, 0(s0)
    addi    s1, s1, 8
    j       print
finish:
    la      a1, s_end
    call    puts
    li      a7, 0x53525354
    li      a6, 0
    li      a0, 0
    li      a1, 0
    ecall
2:  j       2b

/* Trap handler: log scause, stval, sepc - _start; interrupts end the program or go on */
handler:
    csrr    t4, scause
    sd      t4, 0(s11)
    csrr    t5, stval
    sd      t5, 8(s11)
    csrr    t6, sepc
    la      t3, _start
    sub     t3, t6, t3
    sd      t3, 16(s11)
    addi    s11, s11, 24
    bltz    t4, interrupt
    li      t3, 8
    beq     t4, t3, from_user
    li      t3, 12
    beq     t4, t3, fetch_fault
    addi    t6, t6, 4
    csrw    sepc, t6
    sret
from_user:
    la      t6, back_in_s
    csrw    sepc, t6
    li      t3, 0x100
    csrs    sstatus, t3          /* SPP = S */
    sret
fetch_fault:
    csrw    sepc, ra
    sret
interrupt:
    slli    t4, t4, 1
    srli    t4, t4, 1
    li      t3, 1
    bne     t4, t3, 3f
    csrc    sip, 2               /* clear SSIP and carry on */
    sret
3:  sd      zero, -8(s11)        /* where a wall-clock timer lands in QEMU depends on host load: not logged */
    la      t6, done             /* the timer: finish */
    csrw    sepc, t6
    li      t3, 0x20
    csrc    sie, t3
    sret

puts:
    lbu     a2, 0(a1)
    beqz    a2, 4f
    sb      a2, 0(s0)
    addi    a1, a1, 1
    j       puts
4:  ret

puthex:
    li      a3, 60
5:  srl     a2, a1, a3
    andi    a2, a2, 0xf
    addi    a4, a2, 6
    srli    a4, a4, 4
    li      a5, 39
    mul     a4, a4, a5
    add     a2, a2, a4
    addi    a2, a2, '0'
    sb      a2, 0(s0)
    addi    a3, a3, -4
    bgez    a3, 5b
    ret

s_end: .asciz "END\n"

    .section .data
    .balign 4096
root:  .space 4096
l1:    .space 4096
l0:    .space 4096
page0: .space 4096
page1: .dword 0xabcdef
       .space 4088
page2: .dword 0x5555
       .space 4088
mis:   .space 64
log:   .space 4096
