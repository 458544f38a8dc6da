/**
 * An interactive qtest session with qemu-system-aarch64's virt machine. The machine runs (virtio-net
 * moves frames only while it does) but the CPU only sleeps: its firmware is `wfi; b .-4`. Each
 * command's answer is awaited before the next is sent, so QEMU's main loop turns between commands
 * and its asynchronous I/O (block AIO, network sockets) completes as a guest would see.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { tool } from '../helpers/fixtures.js';

/** QEMU virt puts the first -device virtio-*-device in the highest of its 32 slots. */
export const QEMU_LAST_SLOT = 0x0a00_3e00;

export class QtestSession {
  private readonly qemu: ChildProcessWithoutNullStreams;
  private readonly answers: AsyncIterator<string>;
  private stderr = '';

  constructor(deviceArgs: string[]) {
    this.qemu = spawn(
      tool('qemu-system-aarch64'),
      ['-M', 'virt', '-cpu', 'cortex-a53', '-m', '256M', '-bios', sleepingFirmware(), '-display', 'none', '-nodefaults', '-qtest', 'stdio', '-qtest-log', '/dev/null',
        '-global', 'virtio-mmio.force-legacy=false', ...deviceArgs],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.qemu.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.answers = createInterface({ input: this.qemu.stdout })[Symbol.asyncIterator]();
  }

  /** Sends one qtest command; resolves with its OK line, throws on FAIL or exit. */
  async command(line: string): Promise<string> {
    this.qemu.stdin.write(line + '\n');
    for (;;) {
      const next = await this.answers.next();
      if (next.done === true) throw new Error(`qemu exited before answering "${line}": ${this.stderr}`);
      if (next.value.startsWith('FAIL')) throw new Error(`qtest: ${next.value} for "${line}"`);
      if (next.value.startsWith('OK')) return next.value;
    }
  }

  async read(addr: number, size: 1 | 2 | 4): Promise<number> {
    const answer = await this.command(`read${SUFFIX[size]} 0x${addr.toString(16)}`);
    return Number(BigInt(answer.split(' ')[1]!) & 0xffff_ffffn);
  }

  async write(addr: number, size: 1 | 2 | 4 | 8, value: number): Promise<void> {
    await this.command(`write${SUFFIX[size]} 0x${addr.toString(16)} 0x${value.toString(16)}`);
  }

  async writeBytes(addr: number, data: Uint8Array): Promise<void> {
    await this.command(`write 0x${addr.toString(16)} 0x${data.length.toString(16)} 0x${Buffer.from(data).toString('hex')}`);
  }

  async readBytes(addr: number, length: number): Promise<Uint8Array> {
    const answer = await this.command(`read 0x${addr.toString(16)} 0x${length.toString(16)}`);
    return Uint8Array.from(Buffer.from(answer.split(' ')[1]!.replace(/^0x/, ''), 'hex'));
  }

  /**
   * Zeroes guest RAM. Needed before building rings: booting firmware, QEMU virt puts its DTB at the
   * start of RAM, and a ring index read from it is garbage.
   */
  async zero(addr: number, length: number): Promise<void> {
    await this.command(`memset 0x${addr.toString(16)} 0x${length.toString(16)} 0x0`);
  }

  /** Polls `addr` until `done(value)` or about five seconds pass; returns the last value. */
  async poll(addr: number, size: 1 | 2 | 4, done: (v: number) => boolean): Promise<number> {
    let v = await this.read(addr, size);
    for (let i = 0; i < 500 && !done(v); i++) {
      await new Promise((r) => setTimeout(r, 10));
      v = await this.read(addr, size);
    }
    return v;
  }

  /** What QEMU printed on stderr so far (its virtio_error messages land there). */
  get log(): string {
    return this.stderr;
  }

  close(): void {
    this.qemu.stdin.end();
    this.qemu.kill();
  }
}

const SUFFIX = { 1: 'b', 2: 'w', 4: 'l', 8: 'q' } as const;

let firmware: string | undefined;

/** A flash image holding `wfi; b .-4` (A64), so the booted CPU parks without touching anything. */
function sleepingFirmware(): string {
  if (firmware === undefined) {
    firmware = join(mkdtempSync(join(tmpdir(), 'hvisor-qtest-')), 'wfi.bin');
    const code = new Uint32Array([0xd503207f, 0x17ffffff]);
    writeFileSync(firmware, new Uint8Array(code.buffer));
  }
  return firmware;
}
