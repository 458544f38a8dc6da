/**
 * The kernel's processes: init_task and its `tasks` list (thread-group leaders, what `ps` lists),
 * with pid, parent, comm, scheduler state (as /proc/PID/stat's letter) and CPU, laid out by BTF.
 */
import type { GuestKernel } from './guest-kernel.js';

export interface LinuxTask {
  readonly address: bigint;
  readonly pid: number;
  readonly tgid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly state: string;
  readonly cpu: number;
  /** No mm: a kernel thread (ps shows it as [comm]). */
  readonly kernelThread: boolean;
}

/** A guest controls the list: bound the walk. */
const MAX_TASKS = 32768;

/** task_state_index(): (__state | exit_state) & TASK_REPORT, TASK_IDLE shown as I; "RSDTtXZPI". */
function stateLetter(state: number, exitState: number): string {
  const TASK_REPORT = 0x7f;
  const TASK_IDLE = 0x402;
  if (state === TASK_IDLE) return 'I';
  const s = (state | exitState) & TASK_REPORT;
  if (s === 0) return 'R';
  return 'RSDTtXZP'[32 - Math.clz32(s)] ?? '?';
}

export function readTask(k: GuestKernel, task: bigint): LinuxTask {
  const field = (path: string) => task + k.offset('task_struct', path);
  const stateAt = task + k.offsetOfAny('task_struct', '__state', 'state');
  const parent = k.u64(field('real_parent'));
  return {
    address: task,
    pid: k.u32(field('pid')),
    tgid: k.u32(field('tgid')),
    ppid: parent === 0n ? 0 : k.u32(parent + k.offset('task_struct', 'tgid')),
    comm: k.string(field('comm'), 16),
    state: stateLetter(k.u32(stateAt), k.u32(field('exit_state'))),
    cpu: k.u32(task + k.offsetOfAny('task_struct', 'thread_info.cpu', 'cpu')),
    kernelThread: k.u64(field('mm')) === 0n,
  };
}

/** Every task on init_task.tasks, init_task (the idle task, pid 0) first. */
export function listTasks(k: GuestKernel): LinuxTask[] {
  const init = k.symbol('init_task');
  const link = k.offset('task_struct', 'tasks');
  const out = [readTask(k, init)];
  for (let node = k.u64(init + link); node !== init + link; node = k.u64(node)) {
    if (out.length > MAX_TASKS) throw new Error(`task list longer than ${MAX_TASKS}: corrupt or still changing`);
    out.push(readTask(k, node - link));
  }
  return out;
}

export function formatTasks(tasks: readonly LinuxTask[]): string {
  const lines = ['  PID  PPID CPU S TASK               COMM'];
  for (const t of tasks) {
    const comm = t.kernelThread ? `[${t.comm}]` : t.comm;
    lines.push(`${String(t.pid).padStart(5)} ${String(t.ppid).padStart(5)} ${String(t.cpu).padStart(3)} ${t.state} 0x${t.address.toString(16)} ${comm}`);
  }
  return lines.join('\n') + '\n';
}
