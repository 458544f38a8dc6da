import type { ZoneSummary } from '../lifecycle/hypervisor.js';

/**
 * The control channel between `hvisor zone …` and a running instance: one JSON object per line
 * each way over a Unix socket (mode 0600: the owner and root only; control-server.ts).
 */
export type ControlRequest =
  | { readonly cmd: 'list' }
  | { readonly cmd: 'start'; readonly file: string }
  | { readonly cmd: 'shutdown'; readonly id: number }
  | { readonly cmd: 'restart'; readonly id: number };

export type ControlResponse =
  | { readonly ok: true; readonly zones: readonly ZoneSummary[]; readonly message?: string }
  | { readonly ok: false; readonly error: string; /** Linux errno of the refusal (EINVAL unless the error says otherwise). */ readonly errno?: number };

/** The Unix socket's path. */
export type ControlAddress = { readonly path: string };

/** Longest request line accepted (a path and a command). */
export const MAX_CONTROL_LINE = 64 * 1024;

/** Validates a parsed request line; returns an error text for anything else. */
export function parseControlRequest(line: string): ControlRequest | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return `not JSON: ${line.slice(0, 80)}`;
  }
  if (v === null || typeof v !== 'object') return 'a request is a JSON object with "cmd"';
  const r = v as Record<string, unknown>;
  switch (r['cmd']) {
    case 'list':
      return { cmd: 'list' };
    case 'start':
      return typeof r['file'] === 'string' && r['file'] !== '' ? { cmd: 'start', file: r['file'] } : '"start" needs "file" (a zone config path)';
    case 'shutdown':
    case 'restart':
      return Number.isInteger(r['id']) && (r['id'] as number) >= 0 ? { cmd: r['cmd'], id: r['id'] as number } : `"${r['cmd']}" needs "id" (a zone id)`;
    default:
      return `unknown cmd ${JSON.stringify(r['cmd'])}: list, start, shutdown or restart`;
  }
}
