/*
 * hvisor-ts demo guest (riscv64, S-mode on SBI): prints a banner, then a heartbeat line once a
 * second from the supervisor timer interrupt, idling in wfi in between. Position independent: it
 * runs wherever the zone config loads it. Uses only SBI (legacy console putchar, TIME set_timer),
 * so it needs no device of its own: a real-time zone on a board with a single UART still talks.
 * Boot convention: a0 = hart id, a1 = device tree.
 */
#define SBI_PUTCHAR   1
#define SBI_EXT_TIME  0x54494D45
#define SBI_EXT_SRST  0x53525354
#define TICKS_PER_BEAT 10000000          /* QEMU virt timebase-frequency: 10 MHz */

    .section .text.start, "ax"
    .globl _start
_start:
    mv      s0, a0                       /* hart id */
    lla     sp, stack_top
    lla     t0, trap_entry
    csrw    stvec, t0
    lla     a0, banner
    call    puts
    mv      a0, s0
    call    putdec
    li      a0, '\n'
    call    putc
    li      s1, 0                        /* beats so far */
    call    arm_timer
    li      t0, (1 << 5)                 /* sie.STIE */
    csrs    sie, t0
    csrsi   sstatus, 2                   /* sstatus.SIE */
idle:
    wfi
    j       idle

/* Supervisor trap: only the timer is expected; anything else is reported and the zone powers off. */
    .balign 4
trap_entry:
    addi    sp, sp, -64
    sd      ra, 0(sp)
    sd      a0, 8(sp)
    sd      a1, 16(sp)
    sd      a6, 24(sp)
    sd      a7, 32(sp)
    sd      t0, 40(sp)
    sd      t1, 48(sp)
    sd      t2, 56(sp)
    csrr    t0, scause
    li      t1, (1 << 63) | 5            /* supervisor timer interrupt */
    bne     t0, t1, unexpected
    addi    s1, s1, 1
    lla     a0, beat
    call    puts
    mv      a0, s1
    call    putdec
    li      a0, '\n'
    call    putc
    call    arm_timer
    ld      ra, 0(sp)
    ld      a0, 8(sp)
    ld      a1, 16(sp)
    ld      a6, 24(sp)
    ld      a7, 32(sp)
    ld      t0, 40(sp)
    ld      t1, 48(sp)
    ld      t2, 56(sp)
    addi    sp, sp, 64
    sret
unexpected:
    lla     a0, oops
    call    puts
    csrr    a0, scause
    call    putdec
    li      a0, '\n'
    call    putc
    li      a7, SBI_EXT_SRST             /* system_reset(shutdown, system failure) */
    li      a6, 0
    li      a0, 0
    li      a1, 1
    ecall
1:  wfi
    j       1b

/* set_timer(now + one beat) */
arm_timer:
    rdtime  a0
    li      t0, TICKS_PER_BEAT
    add     a0, a0, t0
    li      a7, SBI_EXT_TIME
    li      a6, 0
    ecall
    ret

/* putc(a0): SBI legacy console putchar. Clobbers a0, a7. */
putc:
    li      a7, SBI_PUTCHAR
    ecall
    ret

/* puts(a0 = NUL-terminated string). Clobbers a0, a7, t0. */
puts:
    mv      t0, a0
1:  lbu     a0, 0(t0)
    beqz    a0, 2f
    li      a7, SBI_PUTCHAR
    ecall
    addi    t0, t0, 1
    j       1b
2:  ret

/* putdec(a0): unsigned decimal. Clobbers a0, a7, t0-t2. */
putdec:
    addi    sp, sp, -32
    mv      t0, a0
    addi    t1, sp, 31
    sb      zero, 0(t1)
    li      t2, 10
1:  remu    a0, t0, t2
    addi    a0, a0, '0'
    addi    t1, t1, -1
    sb      a0, 0(t1)
    divu    t0, t0, t2
    bnez    t0, 1b
2:  lbu     a0, 0(t1)
    beqz    a0, 3f
    li      a7, SBI_PUTCHAR
    ecall
    addi    t1, t1, 1
    j       2b
3:  addi    sp, sp, 32
    ret

    .section .rodata
banner: .asciz "hvisor-ts demo guest: up on hart "
beat:   .asciz "heartbeat "
oops:   .asciz "demo guest: unexpected trap, scause="

    .section .bss
    .balign 16
    .space  4096
stack_top:
