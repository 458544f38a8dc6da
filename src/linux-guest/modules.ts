/** Loaded modules: the `modules` list of struct module (name, state, where the code lies). */
import type { GuestKernel } from './guest-kernel.js';

export interface LinuxModule {
  readonly name: string;
  readonly state: string;
  readonly base: bigint;
  readonly size: number;
}

const MAX_MODULES = 4096;
const STATES = ['live', 'coming', 'going', 'unformed'];

export function listModules(k: GuestKernel): LinuxModule[] {
  const head = k.symbol('modules');
  const link = k.offset('module', 'list');
  // Text base and size: mem[MOD_TEXT] (6.4+) or core_layout (before).
  const layout = k.btf.offsetOf('module', 'mem') !== undefined ? 'mem' : 'core_layout';
  const baseAt = k.offset('module', `${layout}.base`);
  const sizeAt = k.offset('module', `${layout}.size`);
  const out: LinuxModule[] = [];
  for (let node = k.u64(head); node !== head; node = k.u64(node)) {
    if (out.length >= MAX_MODULES) throw new Error(`module list longer than ${MAX_MODULES}`);
    const m = node - link;
    out.push({
      name: k.string(m + k.offset('module', 'name'), 56),
      state: STATES[k.u32(m + k.offset('module', 'state'))] ?? '?',
      base: k.u64(m + baseAt),
      size: k.u32(m + sizeAt),
    });
  }
  return out;
}

export function formatModules(modules: readonly LinuxModule[]): string {
  if (modules.length === 0) return 'no modules loaded\n';
  return modules.map((m) => `${m.name.padEnd(24)} ${String(m.size).padStart(8)} ${m.state.padEnd(8)} 0x${m.base.toString(16)}\n`).join('');
}
