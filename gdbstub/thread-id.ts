import { E_INVALID, PacketError } from './hex.js';

/** A zone is one process (pid 1) whose threads are its vCPUs (tid = vCPU index + 1). */
export const ZONE_PID = 1;

/** A parsed thread-id: one thread, every thread (-1) or any thread (0). */
export type ThreadSelector = number | 'all' | 'any';

/**
 * Parses `tid`, `p<pid>.<tid>` or `p<pid>` (hex, -1 = all, 0 = any). A pid other than ours
 * (or all/any) selects nothing in this stub, reported as an invalid thread.
 */
export function parseThreadId(text: string, what: string): ThreadSelector {
  let tid = text;
  if (text.startsWith('p')) {
    const dot = text.indexOf('.');
    const pid = dot < 0 ? text.slice(1) : text.slice(1, dot);
    const p = parseSigned(pid, what);
    if (p !== -1 && p !== 0 && p !== ZONE_PID) throw new PacketError(E_INVALID, `${what}: no process ${pid} in this zone`);
    tid = dot < 0 ? '-1' : text.slice(dot + 1);
  }
  const t = parseSigned(tid, what);
  return t === -1 ? 'all' : t === 0 ? 'any' : t;
}

function parseSigned(text: string, what: string): number {
  if (text === '-1') return -1;
  if (!/^[0-9a-fA-F]{1,8}$/.test(text)) throw new PacketError(E_INVALID, `${what}: bad thread id '${text.slice(0, 20)}'`);
  return parseInt(text, 16);
}

/** Formats a thread id the way the client negotiated (multiprocess: `p01.02`). */
export function formatThreadId(tid: number, multiprocess: boolean): string {
  const t = tid.toString(16).padStart(2, '0');
  return multiprocess ? `p${ZONE_PID.toString(16).padStart(2, '0')}.${t}` : t;
}
