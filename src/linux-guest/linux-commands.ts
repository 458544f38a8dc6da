/**
 * `monitor linux ps|dmesg [N]|current|modules|kaslr` for a zone running Linux: the text each
 * prints, from the kernel's memory (GuestKernel). `current` needs each vCPU's registers, where
 * Linux keeps the running task: arm64 SP_EL0 at EL1 (per-CPU __entry_task at EL0, TPIDR_EL1 being
 * the CPU's per-CPU offset); riscv tp in S-mode (sscratch in U-mode).
 */
import type { GuestKernel } from './guest-kernel.js';
import { formatLog, readLog } from './printk-log.js';
import { formatModules, listModules } from './modules.js';
import { formatTasks, listTasks, readTask } from './tasks.js';
import { HvisorError } from '../util/hvisor-error.js';

export const LINUX_HELP =
  'linux ps              the kernel\'s processes: pid, parent, CPU, state, task_struct, comm\n' +
  'linux dmesg [N]       the kernel log (the last N lines)\n' +
  'linux current         the task each vCPU is running\n' +
  'linux modules         loaded kernel modules\n' +
  'linux kaslr           the kernel\'s KASLR offset, and how to load `hvisor symbols` output at it\n';

export interface VcpuRegisters {
  readonly index: number;
  /** A register by its gdb name (x0, sp, cpsr, SP_EL0, TPIDR_EL1, tp, sscratch, priv), if the arch has it. */
  register(name: string): bigint | undefined;
}

export interface LinuxCommandContext {
  readonly kernel: GuestKernel;
  readonly vcpus: readonly VcpuRegisters[];
  /** The link-time address of _stext from the kernel file, for `kaslr`. */
  readonly linkStext?: bigint | undefined;
  readonly kernelFile?: string;
}

/** Throws UsageError for a command line `runLinuxCommand` would refuse (before any kernel is read). */
export function checkLinuxCommand(words: readonly string[]): void {
  const [sub, ...args] = words;
  if (!['ps', 'dmesg', 'current', 'modules', 'kaslr'].includes(sub ?? '')) {
    throw new UsageError(`unknown: linux ${sub ?? ''}; one of ps, dmesg [N], current, modules, kaslr`);
  }
  if (sub === 'dmesg') {
    if (args.length > 1 || (args.length === 1 && !/^[1-9][0-9]{0,5}$/.test(args[0]!))) throw new UsageError('usage: linux dmesg [N]');
  } else if (args.length > 0) throw new UsageError(`linux ${sub} takes no arguments`);
}

export function runLinuxCommand(words: readonly string[], ctx: LinuxCommandContext): string {
  checkLinuxCommand(words);
  const [sub, ...args] = words;
  switch (sub) {
    case 'ps':
      return formatTasks(listTasks(ctx.kernel));
    case 'dmesg': {
      return formatLog(readLog(ctx.kernel), args.length === 1 ? Number(args[0]) : undefined);
    }
    case 'current': {
      const k = ctx.kernel;
      return ctx.vcpus.map((v) => describeCurrent(k, v)).join('');
    }
    case 'modules':
      return formatModules(listModules(ctx.kernel));
    case 'kaslr': {
      const running = ctx.kernel.symbol('_stext');
      const linked = ctx.linkStext;
      if (linked === undefined) return `_stext runs at 0x${running.toString(16)} (the kernel file is not at hand to compare)\n`;
      const offset = BigInt.asUintN(64, running - linked);
      const file = ctx.kernelFile ?? 'IMAGE';
      return (
        `KASLR offset 0x${offset.toString(16)} (_stext linked at 0x${linked.toString(16)}, running at 0x${running.toString(16)})\n` +
        `  hvisor symbols ${file} -o kernel.elf --offset 0x${offset.toString(16)}   then in gdb: symbol-file kernel.elf\n` +
        `  or: symbol-file kernel.elf -o 0x${offset.toString(16)}\n`
      );
    }
    default:
      throw new UsageError(`unknown: linux ${sub ?? ''}; one of ps, dmesg [N], current, modules, kaslr`);
  }
}

export class UsageError extends HvisorError {}

function describeCurrent(k: GuestKernel, v: VcpuRegisters): string {
  let task: bigint | undefined;
  let how = '';
  if (k.arch === 'aarch64') {
    const el = Number(((v.register('cpsr') ?? 0n) >> 2n) & 3n);
    if (el >= 1) {
      task = v.register('SP_EL0');
      how = 'SP_EL0';
    } else {
      const cpuOffset = v.register('TPIDR_EL1') ?? 0n;
      task = k.u64(k.percpu('__entry_task', cpuOffset));
      how = '__entry_task (at EL0)';
    }
  } else {
    const priv = v.register('priv') ?? 1n;
    task = priv === 0n ? v.register('sscratch') : v.register('tp');
    how = priv === 0n ? 'sscratch (in U-mode)' : 'tp';
  }
  if (task === undefined || task === 0n) return `vcpu${v.index}: no current task (${how} is 0)\n`;
  try {
    const t = readTask(k, task);
    return `vcpu${v.index}: pid ${t.pid} ${t.kernelThread ? `[${t.comm}]` : t.comm} (task_struct 0x${task.toString(16)}, state ${t.state}, from ${how})\n`;
  } catch (e) {
    return `vcpu${v.index}: ${how} = 0x${task.toString(16)} is not a readable task_struct (${(e as Error).message})\n`;
  }
}
