import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BareLoongarch64Machine } from '../../src/arch/loongarch64/bare-machine.js';
import { CSR } from '../../src/arch/loongarch64/csr.js';
import { EM_LOONGARCH, loadElf } from '../../src/loader/elf.js';
import { buildLoongarchProgram } from './toolchain.js';

// hvcl 0 as hvisor-tool's LoongArch driver issues it: a0 = hypercall number, a1/a2 = arguments,
// the result back in a0. At PLV3 it is privileged (IPE). QEMU 7.2 has no LVZ, so no oracle runs it.
const SOURCE = `
    .text
    .globl _start
_start:
    la.pcrel  $t0, handler
    csrwr     $t0, 0xc                   /* EENTRY */
    ori       $a0, $zero, 4              /* HVISOR_HC_ZONE_LIST-like number */
    li.d      $a1, 0x123456789
    ori       $a2, $zero, 7
    hvcl      0
    move      $s0, $a0                   /* the result */
    la.pcrel  $t0, user
    csrwr     $t0, 0x6                   /* ERA */
    ori       $t0, $zero, 3              /* PRMD.PPLV = 3 */
    csrwr     $t0, 0x1
    ertn
user:
    hvcl      0                          /* privileged at PLV3 */
    .balign 4096
handler:
    csrrd     $s1, 0x5                   /* ESTAT */
    li.d      $t0, 0x100e001c
    ori       $t1, $zero, 0x34
    st.b      $t1, $t0, 0
1:  idle      0
    b         1b
`;

describe('loongarch64 hvcl: hvisor hypercalls', () => {
  it('passes a0 (number), a1, a2 to the hypervisor and returns its result in a0; PLV3 gets IPE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'la64-hvcl-'));
    writeFileSync(join(dir, 'hvcl.S'), SOURCE);
    const { elf, symbols } = buildLoongarchProgram(join(dir, 'hvcl.S'), { name: 'hvcl' });
    const m = new BareLoongarch64Machine();
    const image = loadElf(new Uint8Array(readFileSync(elf)), m.memory, { machine: EM_LOONGARCH });
    m.cpu.reset(image.entry, []);
    m.hypercallResult = 0xfffffffffffffff2n; // -EINVAL-style
    m.runToEnd(10_000);
    expect(m.sleep.value).toBe(0x34);
    expect(m.hypercalls).toEqual([{ code: 4n, args: [0x123456789n, 7n] }]);
    expect(m.cpu.reg(23)).toBe(0xfffffffffffffff2n); // s0
    expect((m.cpu.reg(24) >> 16n) & 0x3fn).toBe(0xen); // s1: ESTAT.Ecode = IPE
    expect(m.cpu.readCsr(CSR.ERA)).toBe(symbols.get('user'));
  });
});
