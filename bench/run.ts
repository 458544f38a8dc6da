/**
 * `npm run bench [-- NAME...]`: every benchmark (or the named ones), each beside QEMU's figure from
 * the same run. Each bench is its own program (bench/<name>.ts, built to dist/bench/), run in a
 * child process so one's heap and JIT state never colour another's numbers.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benches: Readonly<Record<string, string>> = {
  riscv64: 'MIPS on the shared fixed-count program (hot blocks compiled), ours vs qemu-system-riscv64',
  aarch64: 'interpreter MIPS on the shared fixed-count program, ours vs qemu-system-aarch64',
  loongarch64: 'interpreter MIPS on the shared fixed-count program, ours vs qemu-system-loongarch64',
  'aarch64-linux': 'Debian arm64 6.1 to BOOT-OK in zone0 through launch(), ours vs qemu-system-aarch64 -smp 2',
  'riscv64-linux': 'Debian forky riscv64 to BOOT-OK in zone0 through launch(), ours vs qemu-system-riscv64 -smp 2',
  'loongarch64-linux': 'Debian forky loong64 to BOOT-OK in zone0 through launch(), ours vs trixie\'s qemu-system-loongarch64',
  'record-replay': 'Debian arm64 6.1 boot plain vs --record (CPU), reverse-stepi cost on the booted zone',
  'reverse-continue': 'going back across a 300M-instruction continue of a recorded bare-metal aarch64 zone (reverse-stepi, reverse-continue)',
  gdbstub: 'gdb-multiarch stepping, memory reads and a 1 MiB dump, our stub vs QEMU\'s',
};

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) {
  console.log(`\n== ${name}: ${benches[name]}`);
  const r = spawnSync(process.execPath, [join(here, `${name}.js`)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
