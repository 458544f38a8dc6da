/**
 * Lockstep oracle: programs/system.S runs on qemu-system-aarch64 -S -gdb and on our core; after
 * every instruction (and every exception entry) x0..x30, sp, pc and cpsr must be identical.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tool } from '../helpers/fixtures.js';
import { RspClient } from './rsp-client.js';
import { buildProgram, loadElf, makeZone } from './test-host.js';
import { GDB_CPSR } from '../../src/arch/aarch64/gdb-registers.js';

const STEPS = Number(process.env.LOCKSTEP_STEPS ?? 3000);

function parseG(hex: string): bigint[] {
  const regs: bigint[] = [];
  for (let i = 0; i < 33; i++) {
    let v = 0n;
    for (let b = 7; b >= 0; b--) v = (v << 8n) | BigInt(parseInt(hex.substr(i * 16 + b * 2, 2), 16));
    regs.push(v);
  }
  let cpsr = 0n;
  for (let b = 3; b >= 0; b--) cpsr = (cpsr << 8n) | BigInt(parseInt(hex.substr(33 * 16 + b * 2, 2), 16));
  regs.push(cpsr);
  return regs;
}

const NAMES = [...Array.from({ length: 31 }, (_, i) => `x${i}`), 'sp', 'pc', 'cpsr'];

describe('lockstep with qemu-system-aarch64', () => {
  it(`agrees on every register after each of ${STEPS} steps of the system program`, async () => {
    const elf = buildProgram('system');
    const port = 20000 + Math.floor(Math.random() * 20000);
    const qemu = spawn(tool('qemu-system-aarch64'), ['-M', 'virt', '-cpu', 'cortex-a53', '-m', '1G', '-display', 'none',
      '-serial', 'null', '-monitor', 'none', '-nic', 'none', '-no-reboot', '-S', '-gdb', `tcp:127.0.0.1:${port}`, '-kernel', elf], { stdio: 'ignore' });
    const rsp = await RspClient.connect(port);
    try {
      const z = makeZone(0x4000_0000, 0x100_0000);
      const { entry } = loadElf(z.memory, elf);
      z.cpu.reset(entry, []);
      const ours = (): bigint[] => {
        const out: bigint[] = [];
        for (let i = 0; i < 33; i++) out.push(z.cpu.r[i]!);
        const c = z.cpu.readRegister(GDB_CPSR)!;
        out.push(BigInt(c[0]! | (c[1]! << 8) | (c[2]! << 16) | (c[3]! << 24)) & 0xffffffffn);
        return out;
      };
      let steps = 0;
      for (; steps < STEPS; steps++) {
        const theirs = parseG(await rsp.request('g'));
        const mine = ours();
        const diff = NAMES.filter((_, i) => theirs[i] !== mine[i]).map((n) => {
          const i = NAMES.indexOf(n);
          return `${n}: qemu 0x${theirs[i]!.toString(16)} ours 0x${mine[i]!.toString(16)}`;
        });
        if (diff.length) throw new Error(`step ${steps} at pc 0x${theirs[32]!.toString(16)}: ${diff.join(', ')}`);
        if (z.cpu.powered === false || z.host.events.includes('off')) break;
        expect(await rsp.request('s')).toMatch(/^T05/);
        z.cpu.run(1, true);
        if (process.env.LOCKSTEP_TRACE && steps % 100 === 0) console.log("step", steps, Date.now());
      }
      expect(steps).toBeGreaterThan(1000);
    } finally {
      rsp.close();
      qemu.kill();
    }
  }, 120_000);
});
