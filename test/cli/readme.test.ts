/**
 * Every command line of README.md runs as written on a fresh checkout: the checkout's files (tracked
 * and new, as `git ls-files` lists them) are copied to a scratch folder with the fixtures and
 * node_modules linked in, and each ```sh line runs there in order, in bash, until the output that
 * shows it works appears (a Linux boot: its first kernel line; U-Boot: its banner), then its process
 * group is stopped. A README line without an expectation here fails the test, so the two stay in step.
 * Runs get private control sockets (XDG_RUNTIME_DIR) and gdb ports the OS picks (HVISOR_GDB_BASE_PORT=0).
 */
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, REPO } from '../helpers/fixtures.js';

interface Expectation {
  /** Which README line this is about. */
  readonly line: RegExp;
  /** What shows the command works; absent: it exits with status 0. */
  readonly output?: RegExp;
  /** Instead of the line: what this test runs in its place, and why. */
  readonly instead?: { readonly command: string | undefined; readonly why: string };
}

const LINUX_AARCH64 = /│ \[\s*0\.0+\] Booting Linux on physical CPU 0x0/;
const EXPECTATIONS: readonly Expectation[] = [
  // `npm ci` is how CI installs before this very suite (.ci/run); re-running it here would replace the
  // node_modules every test runs from. `npm start` builds the scratch copy and runs the demo board.
  { line: /^npm ci && npm start$/, instead: { command: 'npm start', why: 'npm ci ran before the suite' }, output: /zoneR\s*│ heartbeat 1/ },
  { line: /^npm ci && npm test$/, instead: { command: undefined, why: 'this is the suite that is running (CI runs exactly this line)' } },
  { line: /zone0-uboot\.json \\\n\s+--zone boards\/guests\/riscv64\/zoneR-heartbeat\.json/, output: /U-Boot 2023\.01[\s\S]*zoneR\s*│ heartbeat 1/ },
  { line: /--board qemu-virt-aarch64 --zone boards\/guests\/aarch64\/zone0-linux\.json$/, output: LINUX_AARCH64 },
  { line: /--board qemu-virt-aarch64-gicv2 --zone boards\/guests\/aarch64\/zone0-linux-gicv2\.json$/, output: LINUX_AARCH64 },
  { line: /--board qemu-virt-riscv64 --zone boards\/guests\/riscv64\/zone0-linux\.json$/, output: /│ \[\s*0\.0+\] Linux version 7\./ },
  { line: /--board qemu-virt-riscv64-aia --zone boards\/guests\/riscv64\/zone0-linux-aia\.json$/, output: /│ \[\s*0\.0+\] Linux version 7\./ },
  { line: /--board qemu-virt-aarch64 --zone boards\/guests\/aarch64\/zone0-uboot\.json/, output: /U-Boot 2023\.01/ },
  { line: /--board ls3a5000-7a2000 --zone boards\/guests\/loongarch64\/zone0-heartbeat\.json$/, output: /zone0-heartb\S*\s*│ heartbeat 1/ },
  { line: /--board ls3a5000-7a2000 --zone boards\/guests\/loongarch64\/zone0-linux\.json$/, output: /│ \[\s*0\.0+\] Linux version 7\./ },
  {
    line: /--zone boards\/guests\/loongarch64\/zone1-linux\.json --virtio boards\/guests\/loongarch64\/zone1-virtio_cfg\.json$/,
    output: /zone 1 virtio-console@30001000: tcp 127\.0\.0\.1:\d+[\s\S]*│ \[\s*0\.0+\] Linux version 7\./,
  },
  { line: /^node dist\/src\/cli\/main\.js board show --dtb \.fixtures\/dtbs-arm64\/freescale\/imx8mp-evk\.dtb$/, output: /^imx8mp-evk — [\s\S]*timer 8 MHz[\s\S]*serial@30890000/m },
  { line: /run --board qemu-virt-aarch64 --cpus 1 --kernel \.fixtures\/vmlinuz-arm64 /, output: /bring-up zone config: [\s\S]*bring-up\s*│ \[\s*0\.0+\] Booting Linux on physical CPU 0x0/ },
  { line: /^node dist\/src\/cli\/main\.js board show --dtb \.fixtures\/dtbs-arm64-6\.12\/rockchip\/rk3588-rock-5b\.dtb$/, output: /^rk3588 — [\s\S]*timer 24 MHz · interrupt controller: 512[\s\S]*serial@feb50000/m },
  { line: /--board imx8mp-evk --dtb \.fixtures\/dtbs-arm64\/freescale\/imx8mp-evk\.dtb --zone boards\/guests\/aarch64\/imx8mp-zone0-linux\.json$/, output: LINUX_AARCH64 },
  { line: /--board zcu102 --dtb \.fixtures\/dtbs-arm64\/xilinx\/zynqmp-zcu102-rev1\.0\.dtb --zone boards\/guests\/aarch64\/zcu102-zone0-linux\.json$/, output: LINUX_AARCH64 },
  { line: /--board rk3568 --dtb \.fixtures\/dtbs-arm64\/rockchip\/rk3568-evb1-v10\.dtb --zone boards\/guests\/aarch64\/rk3568-zone0-linux\.json$/, output: LINUX_AARCH64 },
  { line: /--board rk3588 --dtb \.fixtures\/dtbs-arm64-6\.12\/rockchip\/rk3588-rock-5b\.dtb --zone boards\/guests\/aarch64\/rk3588-zone0-linux\.json$/, output: LINUX_AARCH64 },
  { line: /^truncate -s 64M disk\.img nvme\.img$/ },
  { line: /^cat > pci\.json <<'JSON'/ },
  { line: /--pci pci\.json --zone boards\/guests\/aarch64\/zone0-linux-pci\.json$/, output: LINUX_AARCH64 },
  { line: /^npm run bench\s+# or:/, output: /== riscv64: MIPS on the shared fixed-count program/ },
  { line: /^npm ci && npm run fixtures && npm run build$/, instead: { command: 'npm run build', why: 'npm ci and the fixtures ran before the suite (pretest)' } },
  { line: /^node dist\/src\/cli\/main\.js symbols \.fixtures\/vmlinuz-arm64 -o arm64-kernel\.elf$/ },
  { line: /--board qemu-virt-aarch64 --zone boards\/guests\/aarch64\/debug\/zone0-linux-shell\.json$/, output: LINUX_AARCH64 },
];

/** The command lines of the README's ```sh blocks: continuation lines joined, here-documents kept whole. */
function readmeCommands(text: string): string[] {
  const out: string[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block[1]!.split('\n');
    for (let i = 0; i < lines.length; i++) {
      let command = lines[i]!;
      if (command.trim() === '') continue;
      while (command.endsWith('\\') && i + 1 < lines.length) command += '\n' + lines[++i]!;
      const heredoc = /<<'?(\w+)'?\s*$/.exec(command);
      if (heredoc !== null) while (i + 1 < lines.length && (command += '\n' + lines[++i]!) && lines[i] !== heredoc[1]);
      out.push(command);
    }
  }
  return out;
}

/** A fresh checkout: the working tree's files (not ignored ones) with .fixtures and node_modules linked. */
function freshCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'readme-'));
  const files = execFileSync('git', ['-C', REPO, 'ls-files', '--cached', '--others', '--exclude-standard', '-z'], { encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '' && f !== 'node_modules' && f !== '.fixtures');
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    try {
      cpSync(join(REPO, f), join(dir, f), { verbatimSymlinks: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // deleted in the working tree
    }
  }
  symlinkSync(FIXTURES, join(dir, '.fixtures'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Runs `command` in bash until `output` appears (then stops its process group) or it exits. */
function runUntil(command: string, cwd: string, output: RegExp | undefined, ms: number): Promise<{ text: string; status: number | null; matched: boolean }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, XDG_RUNTIME_DIR: cwd, HVISOR_GDB_BASE_PORT: '0', FORCE_COLOR: '0' } });
    let text = '';
    let matched = false;
    const stop = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 5_000).unref();
    };
    const timer = setTimeout(stop, ms);
    const take = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (!matched && output !== undefined && output.test(text)) {
        matched = true;
        stop();
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ text, status, matched });
    });
  });
}

describe('README command lines', () => {
  it('every ```sh line of the README runs as written on a fresh checkout', async () => {
    const commands = readmeCommands(readFileSync(join(REPO, 'README.md'), 'utf8'));
    const plan = commands.map((command) => {
      const hits = EXPECTATIONS.filter((e) => e.line.test(command));
      if (hits.length !== 1) throw new Error(`README line ${JSON.stringify(command)} has ${hits.length} expectations in test/cli/readme.test.ts (want 1)`);
      return { command, expectation: hits[0]! };
    });
    expect(EXPECTATIONS.filter((e) => !plan.some((p) => p.expectation === e)), 'expectations for lines the README no longer has').toEqual([]);

    const dir = freshCheckout();
    for (const { command, expectation } of plan) {
      const instead = expectation.instead;
      if (instead !== undefined && instead.command === undefined) continue;
      const run = instead?.command ?? command;
      const started = Date.now();
      const result = await runUntil(run, dir, expectation.output, 300_000);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const tail = result.text.slice(-3000);
      if (expectation.output !== undefined) expect(result.matched, `${run}\n(after ${seconds} s, status ${result.status}) printed:\n${tail}`).toBe(true);
      else expect(result.status, `${run}\nprinted:\n${tail}`).toBe(0);
      expect(result.text, run).not.toMatch(/\berror: |ENOENT|Error: Cannot find module/);
    }
  }, 1_500_000);
});
