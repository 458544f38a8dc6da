import { E_INVALID, PacketError } from './hex.js';
import type { ResumeAction, ThreadInfo } from './target.js';
import { parseThreadId, type ThreadSelector } from './thread-id.js';

/** What `vCont?` advertises: continue, step (with or without a signal), stop. */
export const VCONT_SUPPORTED = 'vCont;c;C;s;S;t';

export interface ResumePlan {
  readonly actions: ReadonlyMap<number, ResumeAction>;
  readonly otherwise: ResumeAction;
}

/**
 * `vCont;a[:tid];a[:tid]…`: each thread takes the leftmost action that names it (or names all);
 * threads no action names stay stopped. Signals (C/S) are accepted and dropped: a zone has no
 * signal delivery.
 */
export function parseVCont(args: string, threads: readonly ThreadInfo[]): ResumePlan {
  const actions = new Map<number, ResumeAction>();
  let otherwise: ResumeAction = 'stop';
  if (args.length === 0) throw new PacketError(E_INVALID, 'vCont: no action');
  for (const part of args.split(';')) {
    const colon = part.indexOf(':');
    const verb = colon < 0 ? part : part.slice(0, colon);
    const action = vContAction(verb);
    const selector: ThreadSelector = colon < 0 ? 'all' : parseThreadId(part.slice(colon + 1), 'vCont');
    if (selector === 'all') {
      for (const t of threads) if (!actions.has(t.id)) actions.set(t.id, action);
      otherwise = action;
      break;
    } else if (selector === 'any') {
      const free = threads.find((t) => !actions.has(t.id));
      if (free) actions.set(free.id, action);
    } else {
      if (!threads.some((t) => t.id === selector)) throw new PacketError(E_INVALID, `vCont: no thread ${selector}`);
      if (!actions.has(selector)) actions.set(selector, action);
    }
  }
  return { actions, otherwise };
}

function vContAction(verb: string): ResumeAction {
  switch (verb[0]) {
    case 'c':
    case 'C':
      if (verb.length > 1 && (verb[0] === 'c' || !/^C[0-9a-fA-F]{2}$/.test(verb))) break;
      return 'continue';
    case 's':
    case 'S':
      if (verb.length > 1 && (verb[0] === 's' || !/^S[0-9a-fA-F]{2}$/.test(verb))) break;
      return 'step';
    case 't':
      if (verb.length > 1) break;
      return 'stop';
  }
  throw new PacketError(E_INVALID, `vCont: unsupported action '${verb.slice(0, 20)}'`);
}
