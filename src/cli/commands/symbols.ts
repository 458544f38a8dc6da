/**
 * `hvisor symbols IMAGE -o FILE.elf [--offset HEX]`: the symbols of an arm64, riscv64 or LoongArch
 * kernel Image (or an EFI zboot image holding one) read from its own kallsyms tables, written as an
 * ELF symbol file for gdb (`symbol-file FILE.elf`).
 * `--offset` adds a KASLR offset (`monitor linux kaslr` in a zone's gdb tells it); `--list` prints
 * the symbols as /proc/kallsyms does instead.
 */
import { writeFileSync } from 'node:fs';
import { readInputFileSync } from '../../util/input-file.js';
import type { CommandModule } from 'yargs';
import { KallsymsError } from '../../linux-guest/kallsyms.js';
import { readKernelFileSymbols } from '../../linux-guest/kernel-symbols.js';
import { writeElfSymbolFile } from '../../linux-guest/elf-symbol-file.js';

interface SymbolsArgs {
  image: string;
  out?: string;
  offset?: string;
  list?: boolean;
}

function parseOffset(text: string | undefined): bigint {
  if (text === undefined) return 0n;
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new KallsymsError(`--offset ${text}: expected a number (0x... or decimal)`);
  return BigInt(text);
}

export const symbolsCommand: CommandModule<object, SymbolsArgs> = {
  command: 'symbols <image>',
  describe: "Write a kernel Image's own symbols (kallsyms) as an ELF symbol file for gdb",
  builder: (y) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'an arm64, riscv64 or LoongArch kernel Image or EFI zboot image (Debian vmlinuz)' })
      .option('out', { alias: 'o', type: 'string', describe: 'the ELF symbol file to write' })
      .option('offset', { type: 'string', describe: 'KASLR offset added to every address (hex with 0x, or decimal)' })
      .option('list', { type: 'boolean', describe: 'print "address type name" lines as /proc/kallsyms does' })
      .check((a) => {
        if (a.out === undefined && a.list !== true) throw new Error('name the output with -o FILE.elf (or print with --list)');
        return true;
      }),
  handler: (args) => {
    const offset = parseOffset(args.offset);
    const image = readInputFileSync(args.image, { what: 'kernel image', maxBytes: 512 << 20 });
    const kernel = readKernelFileSymbols(image, args.image);
    const mask = (1n << 64n) - 1n;
    const symbols = kernel.symbols.map((s) => ({ ...s, address: (s.address + offset) & mask }));
    if (args.list === true) {
      process.stdout.write(symbols.map((s) => `${s.address.toString(16).padStart(16, '0')} ${s.type} ${s.name}\n`).join(''));
    }
    if (args.out !== undefined) {
      const { bytes, stats } = writeElfSymbolFile(symbols, kernel.arch);
      try {
        writeFileSync(args.out, bytes);
      } catch (e) {
        throw new KallsymsError(`${args.out}: cannot write: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      console.error(`${args.out}: ${stats.symbols} ${kernel.arch} symbols in ${stats.sections} sections (${kernel.how})`);
    }
  },
};
