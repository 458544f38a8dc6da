import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RspClient } from '../helpers/rsp-client.js';
import { tool } from '../helpers/fixtures.js';
import { qemuGdbSocket } from '../helpers/ports.js';

// The test helper itself checked against a stub nobody here wrote: QEMU's.
describe('rsp-client against qemu-system-riscv64 -S -gdb', () => {
  let qemu: ChildProcess;
  let client: RspClient;

  beforeAll(async () => {
    const gdbSocket = qemuGdbSocket();
    qemu = spawn(tool('qemu-system-riscv64'), [
      '-M', 'virt', '-smp', '2', '-m', '128M', '-display', 'none', '-serial', 'null', '-monitor', 'none',
      '-nic', 'none', '-bios', 'none', '-S', '-gdb', gdbSocket.qemuArg,
    ], { stdio: 'ignore' });
    client = await RspClient.connectRetry(gdbSocket.path);
  });
  afterAll(async () => {
    await client?.close();
    qemu?.kill();
  });

  it('negotiates, reads the stop reason, registers, the target description, memory and monitor output', async () => {
    expect(await client.request('qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+')).toMatch(/PacketSize=/);
    expect(await client.request('?')).toMatch(/^T05thread:p01\.01;/);
    // riscv64 g = x0..x31 + pc, 8 bytes each.
    expect((await client.request('g')).length).toBe(33 * 16);
    expect(await client.request('qXfer:features:read:target.xml:0,ffb')).toContain('<architecture>riscv:rv64</architecture>');
    expect(await client.readRegister(32)).toBe(0x1000n); // reset vector of the virt board's ROM
    const rom = await client.readMemory(0x1000n, 4);
    expect(rom.length).toBe(4);
    const { output, reply } = await client.monitor('info cpus');
    expect(reply).toBe('OK');
    expect(output).toMatch(/CPU #0/);
    expect(await client.request('qfThreadInfo')).toBe('mp01.01');
    expect(await client.request('qsThreadInfo')).toBe('mp01.02');
    expect(await client.request('qsThreadInfo')).toBe('l');
    // Ack layer: every packet the client sent was acknowledged with '+'.
    expect(client.acks.every((a) => a === '+')).toBe(true);
  });
});

// No gdb in Debian 12 speaks LoongArch: this client is how lockstep tests reach QEMU's stub there.
describe('rsp-client against qemu-system-loongarch64 -S -gdb', () => {
  let qemu: ChildProcess;
  let client: RspClient;

  beforeAll(async () => {
    const gdbSocket = qemuGdbSocket();
    qemu = spawn(tool('qemu-system-loongarch64'), [
      '-M', 'virt', '-m', '1G', '-display', 'none', '-serial', 'null', '-monitor', 'none', '-nic', 'none',
      '-S', '-gdb', gdbSocket.qemuArg,
    ], { stdio: 'ignore' });
    client = await RspClient.connectRetry(gdbSocket.path);
  });
  afterAll(async () => {
    await client?.close();
    qemu?.kill();
  });

  it('reads the description, the g registers and single-steps', async () => {
    await client.request('qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+');
    expect(await client.request('?')).toMatch(/^T05/);
    expect(await client.request('qXfer:features:read:target.xml:0,ffb')).toContain('<architecture>loongarch64</architecture>');
    // r0..r31, orig_a0, pc, badv (gdb-rsp.md: 280 bytes from QEMU 7.2).
    const regs = await client.readGRegisters();
    expect(regs.length).toBe(35);
    expect(regs[0]).toBe(0n);
    const pc = regs[33]!;
    expect(await client.step()).toMatch(/^T05/);
    expect((await client.readGRegisters())[33]).not.toBe(pc);
  });
});
