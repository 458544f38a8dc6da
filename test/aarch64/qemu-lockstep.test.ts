/**
 * Lockstep oracle: programs/system.S runs on qemu-system-aarch64 -S -gdb and on our core; after
 * every instruction (and every exception entry) x0..x30, sp, pc, cpsr, v0..v31, fpsr and fpcr must
 * be identical, and both must power off at the same step. QEMU's stub is a Unix socket in a private
 * folder, so the test can only ever talk to the QEMU it started.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tool } from '../helpers/fixtures.js';
import { RspClient } from '../helpers/rsp-client.js';
import { buildProgram, loadElf, makeZone } from './test-host.js';
import { GDB_FPCR, GDB_FPSR, GDB_V0, GDB_CPSR } from '../../src/arch/aarch64/gdb-registers.js';

/** A bound on the run, not a pass mark: the program powers off long before. */
const MAX_STEPS = 100_000;

const NAMES = [
  ...Array.from({ length: 31 }, (_, i) => `x${i}`), 'sp', 'pc', 'cpsr',
  ...Array.from({ length: 32 }, (_, i) => `v${i}`), 'fpsr', 'fpcr',
];
/** gdb register numbers of the FP/SIMD feature, read with `p` (QEMU's `g` carries only x0..cpsr). */
const FP_REGS = [...Array.from({ length: 32 }, (_, i) => GDB_V0 + i), GDB_FPSR, GDB_FPCR];

const littleEndian = (bytes: Uint8Array) => bytes.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);

describe('lockstep with qemu-system-aarch64', () => {
  it('agrees on every register, FP/SIMD included, after each step of the system program, to the same power-off', async () => {
    const elf = buildProgram('system');
    const sock = join(mkdtempSync(join(tmpdir(), 'qemu-lockstep-')), 'gdb.sock');
    const qemu = spawn(tool('qemu-system-aarch64'), ['-M', 'virt', '-cpu', 'cortex-a53', '-m', '1G', '-display', 'none',
      '-serial', 'null', '-monitor', 'none', '-nic', 'none', '-no-reboot', '-S', '-gdb', `unix:${sock},server=on,wait=off`, '-kernel', elf], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => qemu.once('exit', resolve));
    const rsp = await RspClient.connectRetry(sock, undefined, { timeoutMs: 20_000 });
    try {
      // QEMU answers `p` only to a client that has read its target description (gdb_has_xml).
      expect(await rsp.request('qXfer:features:read:target.xml:0,ffff')).toMatch(/aarch64/);
      const z = makeZone(0x4000_0000, 0x100_0000);
      const { entry } = loadElf(z.memory, elf);
      z.cpu.reset(entry, []);
      const ours = (): bigint[] => {
        const out: bigint[] = [];
        for (let i = 0; i < 33; i++) out.push(z.cpu.r[i]!);
        out.push(littleEndian(z.cpu.readRegister(GDB_CPSR)!) & 0xffffffffn);
        for (const regno of FP_REGS) out.push(littleEndian(z.cpu.readRegister(regno)!));
        return out;
      };
      const theirs = async (): Promise<bigint[]> => {
        // Pipelined: the g packet and the 34 p packets go out at once, the replies come back in order.
        const [g, ...fp] = await Promise.all([rsp.request('g'), ...FP_REGS.map((r) => rsp.readRegister(r))]);
        // x0..x30, sp, pc as 8 bytes each, then cpsr as 4.
        const bytes = Buffer.from(g as string, 'hex');
        if (bytes.length !== 33 * 8 + 4) throw new Error(`g: ${bytes.length} bytes`);
        const core = Array.from({ length: 33 }, (_, i) => bytes.readBigUInt64LE(i * 8));
        return [...core, BigInt(bytes.readUInt32LE(33 * 8)), ...(fp as bigint[])];
      };
      let steps = 0;
      let theirEnd = '';
      for (; steps < MAX_STEPS; steps++) {
        const [q, mine] = [await theirs(), ours()];
        const diff = NAMES.flatMap((n, i) => (q[i] === mine[i] ? [] : [`${n}: qemu 0x${q[i]!.toString(16)} ours 0x${mine[i]!.toString(16)}`]));
        if (diff.length) throw new Error(`step ${steps} at pc 0x${q[32]!.toString(16)}: ${diff.join(', ')}`);
        z.cpu.run(1, true);
        const reply = await rsp.request('s');
        if (z.cpu.powered === false || z.host.events.includes('off')) {
          theirEnd = reply;
          break;
        }
        expect(reply).toMatch(/^T05/);
      }
      // Both powered off on the same instruction: QEMU reports the exit to gdb (in the step's reply,
      // or once resumed if the step's stop won the race with its shutdown request) and ends.
      expect(z.host.events).toContain('off');
      expect(theirEnd).toMatch(/^(W00|T05)/);
      if (theirEnd.startsWith('T05')) expect(await rsp.request('c').catch((e: Error) => e.message)).toMatch(/^W00$|connection closed/);
      expect(await exited).toBe(0);
      expect(steps).toBeGreaterThan(1000);
    } finally {
      await rsp.close();
      qemu.kill();
    }
  }, 300_000);
});
