import { Op } from './ops.js';

/** The result of decoding one instruction: the packed word and its immediate. */
export interface Decoded {
  word: number;
  imm: number;
}

export const SINK = 32;

/** How an encoding's fields are read. */
type Format =
  | 'rrr' | 'rr' | 'rri12' | 'rru12' | 'rri14s2' | 'rri16' | 'ri20' | 'rru5' | 'rru6' | 'sa2p1' | 'sa2' | 'sa3'
  | 'bstrw' | 'bstrd' | 'st12' | 'st14s2' | 'stx' | 'br16' | 'br21' | 'brc21' | 'jirl' | 'b26' | 'csr' | 'raw'
  | 'none' | 'minor' | 'fmem12' | 'fmemx' | 'rrlevel' | 'ldpte' | 'invtlb' | 'iocsr';

/**
 * Encodings as (leading opcode bits, op, format): the bits are matched from bit 31 down, so every
 * entry's prefix identifies it (LoongArch encodings are prefix-free, Reference Manual vol. 1 ch. 2).
 * `minor` entries keep a number in imm that the executor's group op reads.
 */
const TABLE: ReadonlyArray<readonly [string, Op, Format, number?]> = [
  ['0000 00000001 00000', Op.AddW, 'rrr'], ['0000 00000001 00001', Op.AddD, 'rrr'],
  ['0000 00000001 00010', Op.SubW, 'rrr'], ['0000 00000001 00011', Op.SubD, 'rrr'],
  ['0000 00000001 00100', Op.Slt, 'rrr'], ['0000 00000001 00101', Op.Sltu, 'rrr'],
  ['0000 00000001 00110', Op.MaskEqz, 'rrr'], ['0000 00000001 00111', Op.MaskNez, 'rrr'],
  ['0000 00000001 01000', Op.Nor, 'rrr'], ['0000 00000001 01001', Op.And, 'rrr'],
  ['0000 00000001 01010', Op.Or, 'rrr'], ['0000 00000001 01011', Op.Xor, 'rrr'],
  ['0000 00000001 01100', Op.Orn, 'rrr'], ['0000 00000001 01101', Op.Andn, 'rrr'],
  ['0000 00000001 01110', Op.SllW, 'rrr'], ['0000 00000001 01111', Op.SrlW, 'rrr'],
  ['0000 00000001 10000', Op.SraW, 'rrr'], ['0000 00000001 10001', Op.SllD, 'rrr'],
  ['0000 00000001 10010', Op.SrlD, 'rrr'], ['0000 00000001 10011', Op.SraD, 'rrr'],
  ['0000 00000001 10110', Op.RotrW, 'rrr'], ['0000 00000001 10111', Op.RotrD, 'rrr'],
  ['0000 00000001 11000', Op.MulW, 'rrr'], ['0000 00000001 11001', Op.MulhW, 'rrr'],
  ['0000 00000001 11010', Op.MulhWu, 'rrr'], ['0000 00000001 11011', Op.MulD, 'rrr'],
  ['0000 00000001 11100', Op.MulhD, 'rrr'], ['0000 00000001 11101', Op.MulhDu, 'rrr'],
  ['0000 00000001 11110', Op.MulwDW, 'rrr'], ['0000 00000001 11111', Op.MulwDWu, 'rrr'],
  ['0000 00000010 00000', Op.DivW, 'rrr'], ['0000 00000010 00001', Op.ModW, 'rrr'],
  ['0000 00000010 00010', Op.DivWu, 'rrr'], ['0000 00000010 00011', Op.ModWu, 'rrr'],
  ['0000 00000010 00100', Op.DivD, 'rrr'], ['0000 00000010 00101', Op.ModD, 'rrr'],
  ['0000 00000010 00110', Op.DivDu, 'rrr'], ['0000 00000010 00111', Op.ModDu, 'rrr'],
  ['0000 00000010 01000', Op.Crc, 'minor', 0], ['0000 00000010 01001', Op.Crc, 'minor', 1],
  ['0000 00000010 01010', Op.Crc, 'minor', 2], ['0000 00000010 01011', Op.Crc, 'minor', 3],
  ['0000 00000010 01100', Op.Crc, 'minor', 4], ['0000 00000010 01101', Op.Crc, 'minor', 5],
  ['0000 00000010 01110', Op.Crc, 'minor', 6], ['0000 00000010 01111', Op.Crc, 'minor', 7],
  ['0000 00000010 10100', Op.Break, 'raw'], ['0000 00000010 10110', Op.Syscall, 'raw'],
  ['0000 00000010 10111', Op.Hvcl, 'raw'],
  ['0000 00000000 010', Op.AlslW, 'sa2p1'], ['0000 00000000 011', Op.AlslWu, 'sa2p1'],
  ['0000 00000010 110', Op.AlslD, 'sa2p1'],
  ['0000 00000000 100', Op.BytepickW, 'sa2'], ['0000 00000000 11', Op.BytepickD, 'sa3'],
  ['0000 00000000 00000 11000', Op.Rdtime, 'minor', 0], ['0000 00000000 00000 11001', Op.Rdtime, 'minor', 1],
  ['0000 00000000 00000 11010', Op.Rdtime, 'minor', 2], ['0000 00000000 00000 11011', Op.Cpucfg, 'rr'],
  ...[0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17]
    .map((m) => ['0000 00000000 00000 ' + m.toString(2).padStart(5, '0'), Op.Bit2R, 'minor', m] as const),
  ['0000 00000100 00001', Op.SlliW, 'rru5'], ['0000 00000100 0001', Op.SlliD, 'rru6'],
  ['0000 00000100 01001', Op.SrliW, 'rru5'], ['0000 00000100 0101', Op.SrliD, 'rru6'],
  ['0000 00000100 10001', Op.SraiW, 'rru5'], ['0000 00000100 1001', Op.SraiD, 'rru6'],
  ['0000 00000100 11001', Op.RotriW, 'rru5'], ['0000 00000100 1101', Op.RotriD, 'rru6'],
  ['0000 0000011 ..... 0', Op.BstrinsW, 'bstrw'], ['0000 0000011 ..... 1', Op.BstrpickW, 'bstrw'],
  ['0000 000010', Op.BstrinsD, 'bstrd'], ['0000 000011', Op.BstrpickD, 'bstrd'],
  ['0000 001000', Op.Slti, 'rri12'], ['0000 001001', Op.Sltui, 'rri12'],
  ['0000 001010', Op.AddiW, 'rri12'], ['0000 001011', Op.AddiD, 'rri12'],
  ['0000 001100', Op.Lu52iD, 'rri12'], ['0000 001101', Op.Andi, 'rru12'],
  ['0000 001110', Op.Ori, 'rru12'], ['0000 001111', Op.Xori, 'rru12'],
  ['0000 0100', Op.Csr, 'csr'],
  ['0000 011000', Op.Cacop, 'raw'],
  ['0000 01100100 00', Op.Lddir, 'rrlevel'], ['0000 01100100 01 ........ ..... 00000', Op.Ldpte, 'ldpte'],
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((m) => ['0000 01100100 10000 ' + m.toString(2).padStart(5, '0'), Op.Iocsr, 'iocsr', m] as const),
  ['0000 01100100 10000 01000 00000 00000', Op.Tlbclr, 'none'], ['0000 01100100 10000 01001 00000 00000', Op.Tlbflush, 'none'],
  ['0000 01100100 10000 01010 00000 00000', Op.Tlbsrch, 'none'], ['0000 01100100 10000 01011 00000 00000', Op.Tlbrd, 'none'],
  ['0000 01100100 10000 01100 00000 00000', Op.Tlbwr, 'none'], ['0000 01100100 10000 01101 00000 00000', Op.Tlbfill, 'none'],
  ['0000 01100100 10000 01110 00000 00000', Op.Ertn, 'none'], ['0000 01100100 10001', Op.Idle, 'raw'],
  ['0000 01100100 10011', Op.Invtlb, 'invtlb'],
  // Floating point: everything but the loads and stores goes to the FP unit with its raw bits.
  ['0000 0001', Op.Fp, 'raw'], ['0000 1000', Op.Fp, 'raw'], ['0000 1100 0001', Op.Fp, 'raw'],
  ['0000 1100 0010', Op.Fp, 'raw'], ['0000 11010000 00', Op.Fp, 'raw'],
  // LSX (lsx.ts decodes the rest): vbitsel.v, vshuf.b, vld, vst, vldrepl/vstelm, vldx, vstx, 0x70000000-0x73ffffff.
  ['0000 1101 0001', Op.Lsx, 'raw'], ['0000 1101 0101', Op.Lsx, 'raw'], ['0010 110000', Op.Lsx, 'raw'],
  ['0010 110001', Op.Lsx, 'raw'], ['0011 000', Op.Lsx, 'raw'], ['0011 1000 0100 0000 0', Op.Lsx, 'raw'],
  ['0011 1000 0100 0100 0', Op.Lsx, 'raw'], ['0111 00', Op.Lsx, 'raw'],
  ['0001 00', Op.Addu16iD, 'rri16'],
  ['0001 010', Op.Lu12iW, 'ri20'], ['0001 011', Op.Lu32iD, 'ri20'], ['0001 100', Op.Pcaddi, 'ri20'],
  ['0001 101', Op.Pcalau12i, 'ri20'], ['0001 110', Op.Pcaddu12i, 'ri20'], ['0001 111', Op.Pcaddu18i, 'ri20'],
  ['0010 0000', Op.LlW, 'rri14s2'], ['0010 0001', Op.ScW, 'st14s2'], ['0010 0010', Op.LlD, 'rri14s2'],
  ['0010 0011', Op.ScD, 'st14s2'], ['0010 0100', Op.LdW, 'rri14s2'], ['0010 0101', Op.StW, 'st14s2'],
  ['0010 0110', Op.LdD, 'rri14s2'], ['0010 0111', Op.StD, 'st14s2'],
  ['0010 100000', Op.LdB, 'rri12'], ['0010 100001', Op.LdH, 'rri12'], ['0010 100010', Op.LdW, 'rri12'],
  ['0010 100011', Op.LdD, 'rri12'], ['0010 100100', Op.StB, 'st12'], ['0010 100101', Op.StH, 'st12'],
  ['0010 100110', Op.StW, 'st12'], ['0010 100111', Op.StD, 'st12'], ['0010 101000', Op.LdBu, 'rri12'],
  ['0010 101001', Op.LdHu, 'rri12'], ['0010 101010', Op.LdWu, 'rri12'], ['0010 101011', Op.Nop, 'none'],
  ['0010 101100', Op.FldS, 'fmem12'], ['0010 101101', Op.FstS, 'fmem12'], ['0010 101110', Op.FldD, 'fmem12'],
  ['0010 101111', Op.FstD, 'fmem12'],
  ['0011 10000000 00000', Op.LdxB, 'rrr'], ['0011 10000000 01000', Op.LdxH, 'rrr'], ['0011 10000000 10000', Op.LdxW, 'rrr'],
  ['0011 10000000 11000', Op.LdxD, 'rrr'], ['0011 10000001 00000', Op.StxB, 'stx'], ['0011 10000001 01000', Op.StxH, 'stx'],
  ['0011 10000001 10000', Op.StxW, 'stx'], ['0011 10000001 11000', Op.StxD, 'stx'], ['0011 10000010 00000', Op.LdxBu, 'rrr'],
  ['0011 10000010 01000', Op.LdxHu, 'rrr'], ['0011 10000010 10000', Op.LdxWu, 'rrr'], ['0011 10000010 11000', Op.Nop, 'none'],
  ['0011 10000011 00000', Op.FldxS, 'fmemx'], ['0011 10000011 01000', Op.FldxD, 'fmemx'],
  ['0011 10000011 10000', Op.FstxS, 'fmemx'], ['0011 10000011 11000', Op.FstxD, 'fmemx'],
  ...Array.from({ length: 36 }, (_, m) => [
    '0011 1000011' + (m >> 5).toString(2) + ' ' + (m & 31).toString(2).padStart(5, '0'), Op.Am, 'minor', m] as const)
    .filter(([, , , m]) => m < 36),
  ['0011 10000111 00100', Op.Nop, 'none'], ['0011 10000111 00101', Op.Nop, 'none'],
  ['0100 00', Op.Beqz, 'br21'], ['0100 01', Op.Bnez, 'br21'],
  ['0100 10 ................ 00', Op.Bceqz, 'brc21'], ['0100 10 ................ 01', Op.Bcnez, 'brc21'],
  ['0100 11', Op.Jirl, 'jirl'], ['0101 00', Op.B, 'b26'], ['0101 01', Op.Bl, 'b26'],
  ['0101 10', Op.Beq, 'br16'], ['0101 11', Op.Bne, 'br16'], ['0110 00', Op.Blt, 'br16'],
  ['0110 01', Op.Bge, 'br16'], ['0110 10', Op.Bltu, 'br16'], ['0110 11', Op.Bgeu, 'br16'],
];

interface Pattern {
  readonly mask: number;
  readonly match: number;
  readonly op: Op;
  readonly format: Format;
  readonly minor: number;
}

const PATTERNS: Pattern[] = TABLE.map(([bits, op, format, minor]) => {
  const b = bits.replace(/ /g, '');
  let mask = 0, match = 0;
  for (let i = 0; i < b.length; i++) {
    const bit = 31 - i;
    if (b[i] === '.') continue;
    mask |= 1 << bit;
    if (b[i] === '1') match |= 1 << bit;
  }
  return { mask: mask >>> 0, match: match >>> 0, op, format, minor: minor ?? 0 };
});

function pack(op: Op, rd: number, rj: number, rk: number): number {
  return op | (rd << 8) | (rj << 14) | (rk << 20);
}

const dst = (rd: number): number => (rd === 0 ? SINK : rd);
const sext = (v: number, bits: number): number => (v << (32 - bits)) >> (32 - bits);

/**
 * Decodes `inst` into `out`. Unknown or reserved encodings decode to Op.Illegal with the raw bits
 * as imm. The am* group's pattern list needs the full 36-entry minor space, the AM minor 0x12.. ones
 * being the _db forms.
 */
export function decode(inst: number, out: Decoded): void {
  const u = inst >>> 0;
  const rd = u & 31, rj = (u >>> 5) & 31, rk = (u >>> 10) & 31;
  out.word = Op.Illegal;
  out.imm = inst | 0;
  for (const p of PATTERNS) {
    if (((u & p.mask) >>> 0) !== p.match) continue;
    const set = (word: number, imm: number): void => { out.word = word; out.imm = imm; };
    switch (p.format) {
      case 'rrr': return set(pack(p.op, dst(rd), rj, rk), 0);
      case 'rr': return set(pack(p.op, dst(rd), rj, 0), 0);
      case 'rri12': return set(pack(p.op, dst(rd), rj, 0), sext((u >>> 10) & 0xfff, 12));
      case 'rru12': return set(pack(p.op, dst(rd), rj, 0), (u >>> 10) & 0xfff);
      case 'rri14s2': return set(pack(p.op, dst(rd), rj, 0), sext((u >>> 10) & 0x3fff, 14) * 4);
      case 'st14s2': return set(pack(p.op, rd, rj, 0), sext((u >>> 10) & 0x3fff, 14) * 4);
      case 'rri16': return set(pack(p.op, dst(rd), rj, 0), sext((u >>> 10) & 0xffff, 16) * 65536); // addu16i.d
      case 'ri20': return set(pack(p.op, dst(rd), 0, 0), sext((u >>> 5) & 0xfffff, 20));
      case 'rru5': return set(pack(p.op, dst(rd), rj, 0), (u >>> 10) & 31);
      case 'rru6': return set(pack(p.op, dst(rd), rj, 0), (u >>> 10) & 63);
      case 'sa2p1': return set(pack(p.op, dst(rd), rj, rk), ((u >>> 15) & 3) + 1);
      case 'sa2': return set(pack(p.op, dst(rd), rj, rk), (u >>> 15) & 3);
      case 'sa3': return set(pack(p.op, dst(rd), rj, rk), (u >>> 15) & 7);
      case 'bstrw': {
        const msb = (u >>> 16) & 31, lsb = (u >>> 10) & 31;
        if (msb < lsb) return; // reserved: INE
        return set(pack(p.op, p.op === Op.BstrinsW ? rd : dst(rd), rj, 0), (msb << 8) | lsb);
      }
      case 'bstrd': {
        const msb = (u >>> 16) & 63, lsb = (u >>> 10) & 63;
        if (msb < lsb) return;
        return set(pack(p.op, p.op === Op.BstrinsD ? rd : dst(rd), rj, 0), (msb << 8) | lsb);
      }
      case 'st12': return set(pack(p.op, rd, rj, 0), sext((u >>> 10) & 0xfff, 12));
      case 'stx': return set(pack(p.op, rd, rj, rk), 0);
      case 'fmem12': return set(pack(p.op, rd, rj, 0), sext((u >>> 10) & 0xfff, 12));
      case 'fmemx': return set(pack(p.op, rd, rj, rk), 0);
      case 'br16': return set(pack(p.op, rd, rj, 0), sext((u >>> 10) & 0xffff, 16) * 4);
      case 'br21': return set(pack(p.op, 0, rj, 0), sext(((u & 31) << 16) | ((u >>> 10) & 0xffff), 21) * 4);
      case 'brc21': return set(pack(p.op, 0, rj & 7, 0), sext(((u & 31) << 16) | ((u >>> 10) & 0xffff), 21) * 4);
      case 'jirl': return set(pack(p.op, dst(rd), rj, 0), sext((u >>> 10) & 0xffff, 16) * 4);
      case 'b26': return set(pack(p.op, p.op === Op.Bl ? 1 : 0, 0, 0), sext(((u & 0x3ff) << 16) | ((u >>> 10) & 0xffff), 26) * 4);
      case 'csr': return set(pack(p.op, rd, rj, 0), (u >>> 10) & 0x3fff);
      case 'rrlevel': return set(pack(p.op, dst(rd), rj, 0), (u >>> 10) & 0xff);
      case 'ldpte': return set(pack(p.op, 0, rj, 0), (u >>> 10) & 0xff);
      case 'invtlb': return set(pack(p.op, 0, rj, rk), u & 31);
      case 'iocsr': return set(pack(p.op, p.minor >= 4 ? rd : dst(rd), rj, 0), p.minor);
      case 'minor': return set(pack(p.op, dst(rd), rj, rk), p.minor);
      case 'raw': return set(pack(p.op, rd, rj, rk), inst | 0);
      case 'none': return set(pack(p.op, 0, 0, 0), 0);
    }
  }
}
