import { describe, expect, it } from 'vitest';
import { errorOf, hitOf } from '../helpers/run-result.js';
import { loadSmode, reg, runSmode, SHUTDOWN } from './smode-harness.js';

// Register numbers used below.
const A0 = 10, A1 = 11, S2 = 18, S3 = 19, S4 = 20, S5 = 21, S6 = 22, S7 = 23, S8 = 24, S9 = 25, S10 = 26, S11 = 27, S1 = 9;

/** A trap handler that logs (scause, stval) pairs at s11 and resumes after the trapping 4-byte instruction. */
const LOGGING_HANDLER = `
handler:
  csrr t3, scause
  csrr t4, stval
  sd t3, 0(s11)
  sd t4, 8(s11)
  addi s11, s11, 16
  csrr t3, sepc
  addi t3, t3, 4
  csrw sepc, t3
  sret
`;

function log(m: ReturnType<typeof runSmode>['m'], at: number, entries: number): bigint[][] {
  const out: bigint[][] = [];
  for (let k = 0; k < entries; k++) out.push([m.memory.read(at + 16 * k, 8)!, m.memory.read(at + 16 * k + 8, 8)!]);
  return out;
}

describe('riscv64 traps', () => {
  it('takes an illegal instruction to stvec with scause, stval = the instruction bits, sepc, and returns with sret', () => {
    const { m, stop } = runSmode('illegal', `
  la t0, handler
  csrw stvec, t0
  la s6, bad
bad:
  .word 0x0000000b
  li s1, 7
  ${SHUTDOWN}
handler:
  csrr s2, scause
  csrr s3, stval
  csrr s4, sepc
  csrr s5, sstatus
  addi t0, s4, 4
  csrw sepc, t0
  sret
`);
    expect(stop.kind).toBe('system-event');
    expect(m.systemEvent).toBe('off');
    expect(reg(m, S2)).toBe(2n);
    expect(reg(m, S3)).toBe(0xbn);
    expect(reg(m, S4)).toBe(reg(m, S6));
    expect(reg(m, S5) & 0x122n).toBe(0x100n); // SPP = S, SPIE = 0, SIE = 0
    expect(reg(m, S5) >> 32n & 3n).toBe(2n); // UXL = 64
    expect(reg(m, S1)).toBe(7n);
  });

  it('enters U-mode with sret; a CSR access there is illegal and ecall from U traps with cause 8', () => {
    const { m, stop } = runSmode('umode', `
  la t0, handler
  csrw stvec, t0
  la t0, user
  csrw sepc, t0
  li t0, 0x100
  csrc sstatus, t0
  sret
user:
  li a0, 42
  csrr a1, sstatus
  ecall
handler:
  csrr t1, scause
  li t2, 2
  bne t1, t2, 1f
  li s2, 1
  csrr s5, stval
  csrr t1, sepc
  addi t1, t1, 4
  csrw sepc, t1
  sret
1:
  mv s3, t1
  mv s4, a0
  csrr s6, sstatus
  ${SHUTDOWN}
`);
    expect(stop.kind).toBe('system-event');
    expect(reg(m, S2)).toBe(1n);
    expect(reg(m, S5)).toBe(0x100025f3n); // csrr a1, sstatus
    expect(reg(m, S3)).toBe(8n);
    expect(reg(m, S4)).toBe(42n);
    expect(reg(m, S6) & 0x100n).toBe(0n); // SPP = U
  });

  it('stops with a zone-agnostic report when the guest faults with no trap vector, and keeps the pc', () => {
    const { m, stop } = runSmode('noguard', `
  li t0, 0x1000
  la s6, here
here:
  ld t1, 0(t0)
  ${SHUTDOWN}
`);
    expect(stop.kind).toBe('guest-error');
    expect(errorOf(stop)).toEqual({ pc: reg(m, S6), cause: 'load access fault', address: 0x1000n });
    expect(m.cpu.pc).toBe(reg(m, S6));
    expect(m.cpu.describe()).toContain('load access fault');
    expect(m.cpu.run(10).kind).toBe('guest-error');
  });
});

describe('riscv64 Sv39', () => {
  const ROOT = 0x8040_0000, L1 = 0x8040_1000, L0 = 0x8040_2000;
  const V = 1n, R = 2n, W = 4n, X = 8n, U = 16n, A = 64n, D = 128n;
  const pte = (pa: number, flags: bigint): bigint => (BigInt(pa >>> 12) << 10n) | flags;

  it('translates through 3 levels and a gigapage, sets A/D, and raises page faults with stval = the address', () => {
    const { m, stop } = runSmode('sv39', `
  la t0, handler
  csrw stvec, t0
  la s11, faults
  li t0, (8 << 60) | (${ROOT} >> 12)
  csrw satp, t0
  sfence.vma
  li t1, 0x40000000
  ld s2, 0(t1)
  sd s2, 8(t1)
  li t1, 0x40001000
  sd zero, 0(t1)
  li t1, 0x40002000
  ld s5, 0(t1)
  li t0, 1 << 18
  csrs sstatus, t0
  ld s7, 0(t1)
  li t1, 0x40003000
  ld zero, 0(t1)
  li t1, 0x0000004000000000
  ld zero, 0(t1)
  ${SHUTDOWN}
${LOGGING_HANDLER}
  .section .data
  .balign 16
faults: .space 256
`, (m) => {
      const w = (a: number, v: bigint) => m.memory.write(a, 8, v);
      w(ROOT + 2 * 8, pte(0x8000_0000, V | R | W | X | A | D)); // 0x8000_0000 identity gigapage
      w(ROOT + 1 * 8, pte(L1, V));
      w(L1 + 0, pte(L0, V));
      w(L0 + 0 * 8, pte(0x8050_0000, V | R | W));
      w(L0 + 1 * 8, pte(0x8050_1000, V | R | A));
      w(L0 + 2 * 8, pte(0x8050_2000, V | R | W | U));
      w(0x8050_0000, 0x1122334455667788n);
      w(0x8050_2000, 0xabcdn);
    });
    expect(stop.kind).toBe('system-event');
    expect(reg(m, S2)).toBe(0x1122334455667788n);
    expect(m.memory.read(0x8050_0008, 8)).toBe(0x1122334455667788n);
    expect(m.memory.read(L0, 8)! & (A | D)).toBe(A | D);
    expect(m.memory.read(L0 + 16, 8)! & (A | D)).toBe(A);
    expect(reg(m, S7)).toBe(0xabcdn);
    const faults = m.cpu.reg(S11) - 0n;
    void faults;
    const base = Number(m.cpu.reg(S11)) - 16 * 4;
    expect(log(m, base, 4)).toEqual([
      [15n, 0x4000_1000n], // store to a read-only page
      [13n, 0x4000_2000n], // U page from S without SUM
      [13n, 0x4000_3000n], // invalid PTE
      [13n, 0x40_0000_0000n], // not sign-extended from bit 38
    ]);
  });

  it('sfence.vma with an address drops that page, and every page of a superpage it falls in', () => {
    // 0x4000_0000: a 4 KiB page (L0[0]); 0x4020_0000: a 2 MiB superpage (L1[1]). Both are read (cached in
    // the TLB), their PTEs rewritten, then fenced by one address each: the superpage's fence names a page
    // other than the one read, and must drop that one too.
    const page = (pa: number) => pte(pa, V | R | W | A | D);
    const { m, stop } = runSmode('sfence-addr', `
  li t0, (8 << 60) | (${ROOT} >> 12)
  csrw satp, t0
  sfence.vma
  li t1, 0x40000000
  ld s2, 0(t1)
  li t2, 0x40201000
  ld s3, 0(t2)
  li t3, ${L0}
  li t4, ${page(0x8051_0000)}
  sd t4, 0(t3)
  li t3, ${L1 + 8}
  li t4, ${page(0x8080_0000)}
  sd t4, 0(t3)
  sfence.vma t1
  ld s4, 0(t1)
  li t5, 0x40200000
  sfence.vma t5
  ld s5, 0(t2)
  ${SHUTDOWN}
`, (m) => {
      const w = (a: number, v: bigint) => m.memory.write(a, 8, v);
      w(ROOT + 2 * 8, pte(0x8000_0000, V | R | W | X | A | D)); // code, data and tables: an identity gigapage
      w(ROOT + 1 * 8, pte(L1, V));
      w(L1 + 0, pte(L0, V));
      w(L1 + 8, page(0x8060_0000));
      w(L0, page(0x8050_0000));
      w(0x8050_0000, 1n);
      w(0x8051_0000, 2n);
      w(0x8060_1000, 3n);
      w(0x8080_1000, 4n);
    });
    expect(stop.kind).toBe('system-event');
    expect([reg(m, S2), reg(m, S3), reg(m, S4), reg(m, S5)]).toEqual([1n, 3n, 2n, 4n]);
  });

  it('debugTranslate walks the tables without setting A/D', () => {
    const { m } = loadSmode('sv39-debug', SHUTDOWN);
    m.memory.write(ROOT + 8, 8, pte(L1, V));
    m.memory.write(L1, 8, pte(L0, V));
    m.memory.write(L0 + 5 * 8, 8, pte(0x8060_0000, V | R | W));
    m.cpu.writeRegister(65 + 0x180, new Uint8Array(new BigUint64Array([(8n << 60n) | BigInt(ROOT >>> 12)]).buffer));
    expect(m.cpu.debugTranslate(0x4000_5123n, 'r')).toBe(0x8060_0123);
    expect(m.cpu.debugTranslate(0x4000_5123n, 'x')).toBeUndefined();
    expect(m.cpu.debugTranslate(0x4000_6000n, 'r')).toBeUndefined();
    expect(m.memory.read(L0 + 5 * 8, 8)! & A).toBe(0n);
  });
});

describe('riscv64 interrupts', () => {
  it('delivers the SBI timer as a supervisor timer interrupt once time passes stimecmp', () => {
    const { m, stop } = runSmode('timer', `
  la t0, handler
  csrw stvec, t0
  li t0, 1 << 5
  csrs sie, t0
  rdtime a0
  addi a0, a0, 100
  li a7, 0x54494D45
  li a6, 0
  ecall
  li t0, 2
  csrs sstatus, t0
  li s2, 0
1:
  addi s2, s2, 1
  j 1b
handler:
  csrr s3, scause
  csrr s4, sip
  ${SHUTDOWN}
`);
    expect(stop.kind).toBe('system-event');
    expect(reg(m, S3)).toBe((1n << 63n) | 5n);
    expect(reg(m, S4) & 0x20n).toBe(0x20n);
    expect(reg(m, S2)).toBeGreaterThan(100n);
  });

  const PRIORITY = `
  la t0, handler
  csrw stvec, t0
  li t0, 0x222
  csrs sie, t0
  li t0, 2
  csrs sip, t0
  csrw stimecmp, zero
  li t0, 2
  csrs sstatus, t0
  nop
  li s2, 99
handler:
  csrr s3, scause
  ${SHUTDOWN}
`;
  it('prioritises external over software over timer interrupts', () => {
    const withSei = runSmode('prio-sei', PRIORITY, (m) => m.cpu.setInterrupt(9, true));
    expect(reg(withSei.m, S3)).toBe((1n << 63n) | 9n);
    const withoutSei = runSmode('prio-ssi', PRIORITY);
    expect(reg(withoutSei.m, S3)).toBe((1n << 63n) | 1n);
  });

  it('wfi waits while nothing is pending and wakes on an enabled interrupt even with SIE clear', () => {
    const r = loadSmode('wfi', `
  li t0, 1 << 9
  csrs sie, t0
  wfi
  li s2, 5
  ${SHUTDOWN}
`);
    expect(r.m.cpu.run(1000).kind).toBe('wait');
    expect(r.m.cpu.run(1000).kind).toBe('wait');
    r.m.cpu.setInterrupt(9, true);
    expect(r.m.cpu.run(1000).kind).toBe('system-event');
    expect(reg(r.m, S2)).toBe(5n);
    expect(r.m.cpu.nextTimerDeadline()).toBe(Infinity);
  });
});

describe('riscv64 SBI', () => {
  it('answers base, DBCN, legacy console, HSM, hvisor hypercalls and unknown extensions', () => {
    const { m, stop } = runSmode('sbi', `
  li a7, 0x10
  li a6, 3
  li a0, 0x4442434E
  ecall
  mv s2, a1
  li a7, 0x10
  li a6, 0
  ecall
  mv s3, a1
  li a7, 0x4442434E
  li a6, 0
  li a0, 5
  la a1, msg
  li a2, 0
  ecall
  mv s4, a0
  mv s5, a1
  li a7, 1
  li a0, '!'
  ecall
  li a7, 0x48534D
  li a6, 2
  li a0, 0
  ecall
  mv s6, a0
  mv s7, a1
  li a7, 0x48534D
  li a6, 2
  li a0, 5
  ecall
  mv s8, a0
  li a7, 0x114514
  li a0, 3
  li a1, 0x11
  li a2, 0x22
  ecall
  mv s9, a0
  mv s10, a1
  li a7, 0x12345
  ecall
  mv s11, a0
  ${SHUTDOWN}
msg: .ascii "hello"
`, (m) => { m.hypercallResult = 0x77n; });
    expect(stop.kind).toBe('system-event');
    expect(reg(m, S2)).toBe(1n);
    expect(reg(m, S3)).toBe(0x02000000n);
    expect([reg(m, S4), reg(m, S5)]).toEqual([0n, 5n]);
    expect(m.output()).toBe('hello!');
    expect([reg(m, S6), reg(m, S7)]).toEqual([0n, 0n]);
    expect(BigInt.asIntN(64, reg(m, S8))).toBe(-3n);
    expect(m.hypercalls).toEqual([{ code: 3n, args: [0x11n, 0x22n] }]);
    expect([reg(m, S9), reg(m, S10)]).toEqual([0n, 0x77n]);
    expect(BigInt.asIntN(64, reg(m, S11))).toBe(-2n);
    void A0; void A1;
  });

  it('HSM hart_stop powers the vCPU off', () => {
    const { m, stop } = runSmode('hsm-stop', `
  li a7, 0x48534D
  li a6, 1
  ecall
`);
    expect(stop.kind).toBe('off');
    expect(m.cpu.powered).toBe(false);
    expect(m.cpu.run(10).kind).toBe('off');
  });
});

describe('riscv64 memory behaviour', () => {
  it('sees a store that rewrites an instruction it already decoded, and handles misaligned page-crossing accesses', () => {
    const { m, stop } = runSmode('smc', `
  li s1, 0
again:
  la t0, patch
  li t1, 0x02a00a13
patch:
  addi s4, x0, 1
  addi s1, s1, 1
  sw t1, 0(t0)
  li t2, 2
  bne s1, t2, again
  la t0, cross
  li t1, 0x0102030405060708
  sd t1, 0(t0)
  ld s2, 0(t0)
  lw s3, 2(t0)
  ${SHUTDOWN}
  .section .data
  .balign 4096
  .space 4092
cross: .space 16
`);
    expect(stop.kind).toBe('system-event');
    expect(reg(m, S4)).toBe(42n);
    expect(reg(m, S2)).toBe(0x0102030405060708n);
    expect(reg(m, S3)).toBe(0x03040506n);
  });

  // Misaligned accesses inside one page take the TLB's fast path (interpreted) and stay in compiled blocks:
  // three passes, so the later ones hit the TLB entries the first filled.
  for (const compileThreshold of [0, 1]) {
    it(`misaligned loads and stores inside a page, ${compileThreshold === 0 ? 'interpreted' : 'in compiled blocks'}`, () => {
      const { m, stop, symbols } = runSmode(`misaligned-${compileThreshold}`, `
  la t0, buf
  li t1, 0x8877665544332211
  li s1, 0
again:
  sd t1, 1(t0)
  sw t1, 11(t0)
  sh t1, 17(t0)
  ld s2, 3(t0)
  lw s3, 5(t0)
  lwu s4, 5(t0)
  lh s5, 7(t0)
  lhu s6, 7(t0)
  ld s7, 11(t0)
  addi s1, s1, 1
  li t2, 3
  bne s1, t2, again
  ${SHUTDOWN}
  .section .data
  .balign 4096
buf: .space 64
`, (machine) => { machine.cpu.compileThreshold = compileThreshold; });
      expect(stop.kind).toBe('system-event');
      expect(reg(m, S2)).toBe(0x0000887766554433n);
      expect(reg(m, S3)).toBe(0xffffffff88776655n);
      expect(reg(m, S4)).toBe(0x88776655n);
      expect(reg(m, S5)).toBe(0xffffffffffff8877n);
      expect(reg(m, S6)).toBe(0x8877n);
      expect(reg(m, S7)).toBe(0x2211000044332211n);
      const at = symbols.get('buf')! - 0x8000_0000;
      expect([...m.ram.u8.subarray(at, at + 20)]).toEqual(
        [0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0, 0, 0x11, 0x22, 0x33, 0x44, 0, 0, 0x11, 0x22, 0]);
      if (compileThreshold === 1) expect(m.cpu.blocksCompiled).toBeGreaterThan(0);
    });
  }

  it('LR/SC: a store to the reserved address makes SC fail', () => {
    const { m } = runSmode('lrsc', `
  la t0, var
  lr.d t1, (t0)
  sc.d s2, t1, (t0)
  lr.d t1, (t0)
  sd zero, 0(t0)
  sc.d s3, t1, (t0)
  li t0, 0x80300001
  ${SHUTDOWN}
  .section .data
  .balign 8
var: .dword 5
`);
    expect(reg(m, S2)).toBe(0n);
    expect(reg(m, S3)).toBe(1n);
  });
});

describe('riscv64 LR/SC across harts', () => {
  it('fails an SC when another agent changed the reserved word between LR and SC', () => {
    const r = loadSmode('lrsc-smp', `
  la t0, var
  lr.d t1, (t0)
sc_here:
  sc.d s3, t1, (t0)
  ${SHUTDOWN}
  .section .data
  .balign 8
var: .dword 5
`);
    const sc = BigInt(r.symbols.get('sc_here')!);
    r.m.cpu.setBreakpoint(sc, true);
    expect(r.m.cpu.run(1000).kind).toBe('breakpoint');
    r.m.memory.write(r.symbols.get('var')!, 8, 6n); // another hart's store: this hart never saw it
    r.m.cpu.setBreakpoint(sc, false);
    expect(r.m.cpu.run(1000).kind).toBe('system-event');
    expect(reg(r.m, S3)).toBe(1n);
    expect(r.m.memory.read(r.symbols.get('var')!, 8)).toBe(6n);
  });
});

describe('riscv64 debugger view', () => {
  const PROGRAM = `
  li a0, 1
here:
  li a0, 2
  la t0, var
  li t1, 9
  sd t1, 0(t0)
  li a0, 3
  ${SHUTDOWN}
  .section .data
  .balign 8
var: .dword 0
`;

  it('stops at breakpoints before executing them, single-steps, and reports watchpoints before the store', () => {
    const r = loadSmode('debug', PROGRAM);
    const here = BigInt(r.symbols.get('here')!);
    const v = BigInt(r.symbols.get('var')!);
    r.m.cpu.setBreakpoint(here, true);
    expect(r.m.cpu.run(1000).kind).toBe('breakpoint');
    expect(r.m.cpu.pc).toBe(here);
    expect(reg(r.m, A0)).toBe(1n);
    expect(r.m.cpu.run(1, true).kind).toBe('step');
    expect(r.m.cpu.pc).toBe(here + 4n);
    expect(reg(r.m, A0)).toBe(2n);
    r.m.cpu.setBreakpoint(here, false);
    r.m.cpu.setWatchpoint(v, 8, 'write', true);
    const watched = r.m.cpu.run(1000);
    expect(watched.kind).toBe('watchpoint');
    expect(hitOf(watched)).toEqual({ kind: 'write', address: v });
    expect(r.m.memory.read(Number(v), 8)).toBe(0n);
    r.m.cpu.setWatchpoint(v, 8, 'write', false);
    expect(r.m.cpu.run(1000).kind).toBe('system-event');
    expect(r.m.memory.read(Number(v), 8)).toBe(9n);
    expect(reg(r.m, A0)).toBe(0n); // SRST left a0 = SBI_SUCCESS
  });

  it('reads and writes registers by gdb number, little-endian', () => {
    const r = loadSmode('regs', PROGRAM);
    const cpu = r.m.cpu;
    const le = (v: bigint, n = 8) => Uint8Array.from({ length: n }, (_, k) => Number((v >> BigInt(8 * k)) & 0xffn));
    expect(cpu.readRegister(32)).toEqual(le(0x8020_0000n));
    expect(cpu.readRegister(11)).toEqual(le(0x8220_0000n)); // a1 = DTB address from reset
    expect(cpu.writeRegister(5, le(0x1234_5678_9abc_def0n))).toBe(true);
    expect(cpu.reg(5)).toBe(0x1234_5678_9abc_def0n);
    expect(cpu.writeRegister(0, le(5n))).toBe(true);
    expect(cpu.reg(0)).toBe(0n);
    expect(cpu.readRegister(65 + 4096)).toEqual(le(1n)); // priv = S
    expect(cpu.readRegister(65 + 0x100)).toEqual(le(2n << 32n)); // sstatus: UXL only
    expect(cpu.writeRegister(33, le(0x4000_0000_0000_0000n))).toBe(true);
    expect(cpu.readRegister(33)).toEqual(le(0x4000_0000_0000_0000n));
    expect(cpu.readRegister(65 + 3)).toEqual(le(0n, 4)); // fcsr is 32 bits
    expect(cpu.readRegister(65 + 0x300)).toBeUndefined(); // mstatus does not exist for a guest
    expect(cpu.readRegister(70000)).toBeUndefined();
    const regnos = cpu.gdb.features.flatMap((f) => f.registers.map((g) => g.regno));
    for (const n of regnos) expect(cpu.readRegister(n), `regno ${n}`).toBeDefined();
    expect(cpu.gdb.architecture).toBe('riscv:rv64');
    expect(cpu.gdb.features.map((f) => f.name)).toEqual(['org.gnu.gdb.riscv.cpu', 'org.gnu.gdb.riscv.fpu', 'org.gnu.gdb.riscv.virtual', 'org.gnu.gdb.riscv.csr']);
    void S8; void S9;
  });
});
