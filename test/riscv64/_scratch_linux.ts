import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { LinuxMachine } from './linux-machine.js';
const kernel = new Uint8Array(readFileSync(process.argv[2]!));
const initrd = new Uint8Array(readFileSync('/work/main/.fixtures/initramfs-riscv64.cpio.gz'));
void gunzipSync;
const m = new LinuxMachine(kernel, '/work/main/.fixtures/qemu-dtb/qemu-virt-riscv64.dtb', initrd, 'console=ttyS0 earlycon=sbi rdinit=/init panic=-1');
const t = performance.now(); const cpu0 = process.cpuUsage();
let shown = 0;
for (let k = 0; k < Number(process.env.SLICES ?? 400); k++) {
  const out = m.runUntil('BOOT-OK', 10_000_000);
  process.stdout.write(out.slice(shown)); shown = out.length;
  if (out.includes('[hart') || m.powerOff !== undefined || out.includes('BOOT-OK')) break;
}
console.log(`\n--- cpu ${((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6).toFixed(1)} s, ${m.cpu.retired} insns, ${((performance.now() - t) / 1000).toFixed(1)} s, pc=0x${m.cpu.pc.toString(16)} ${m.cpu.describe()}`);
