/**
 * Manual run (not a vitest file): Debian's riscv64 kernel booted on one bare hart of our core to the
 * initramfs' BOOT-OK (about 840 M instructions), without the hypervisor: handy for profiling the core
 * alone (test/linux/riscv64-zone0.test.ts boots the same kernel in zone0 through launch()).
 * Build with tsc including test/riscv64, then: node <out>/test/riscv64/boot-linux.js
 */
import { readFileSync } from 'node:fs';
import { fixture, fixtureMatching } from '../helpers/fixtures.js';
import { LinuxMachine } from './linux-machine.js';

const kernel = new Uint8Array(readFileSync(`${fixtureMatching('debian/rv64/usr/lib/modules', /riscv64$/)}/vmlinuz`));
const initrd = new Uint8Array(readFileSync(fixture('initramfs-riscv64.cpio.gz')));
const m = new LinuxMachine(kernel, fixture('qemu-dtb/qemu-virt-riscv64.dtb'), initrd, 'console=ttyS0 earlycon=sbi rdinit=/init panic=-1');
const t = performance.now();
const cpu0 = process.cpuUsage();
let shown = 0;
for (let k = 0; k < Number(process.env.SLICES ?? 400); k++) {
  const out = m.runUntil('BOOT-OK', 10_000_000);
  process.stdout.write(out.slice(shown));
  shown = out.length;
  if (out.includes('[hart') || m.powerOff !== undefined || out.includes('BOOT-OK')) break;
}
const cpu = process.cpuUsage(cpu0);
console.log(`\n--- ${m.cpu.retired} instructions, ${((performance.now() - t) / 1000).toFixed(1)} s wall, ` +
  `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU, pc=0x${m.cpu.pc.toString(16)} ${m.cpu.describe()}`);
