import { textToHex } from './hex.js';
import type { GdbTarget } from './target.js';

/** Stub-level `monitor` commands, listed before the target's own in `monitor help`. */
export const STUB_MONITOR_HELP =
  'help                  this list\n' +
  'phys on|off           gdb memory accesses as guest-physical (on) or through the vCPU translation (off)\n';

export interface MonitorResult {
  readonly output: string;
  /** Guest-physical mode after the command. */
  readonly physical: boolean;
}

/**
 * Runs one `monitor` line: `help` and `phys` here, everything else by the target. A target that
 * throws has its message printed, the session goes on.
 */
export function runMonitorCommand(command: string, target: GdbTarget, physical: boolean): MonitorResult | Promise<MonitorResult> {
  const words = command.trim().split(/\s+/);
  let output: string | Promise<string>;
  if (words[0] === 'help') {
    const help = targetCommand(target, 'help');
    output = typeof help === 'string' ? STUB_MONITOR_HELP + help : help.then((h) => STUB_MONITOR_HELP + h);
  } else if (words[0] === 'phys' && words.length === 2 && (words[1] === 'on' || words[1] === 'off')) {
    physical = words[1] === 'on';
    output = `gdb memory accesses are now ${physical ? 'guest-physical' : 'through the vCPU translation'}\n`;
  } else if (words[0] === 'phys') {
    output = `memory accesses are ${physical ? 'guest-physical' : 'guest-virtual'}; usage: phys on|off\n`;
  } else {
    output = targetCommand(target, command.trim());
  }
  const done = (text: string): MonitorResult => ({ output: text.length > 0 && !text.endsWith('\n') ? text + '\n' : text, physical });
  return typeof output === 'string' ? done(output) : output.then(done);
}

function targetCommand(target: GdbTarget, command: string): string | Promise<string> {
  const failed = (e: unknown) => `error: ${(e as Error).message}\n`;
  try {
    const out = target.monitor(command);
    return typeof out === 'string' ? out : out.catch(failed);
  } catch (e) {
    return failed(e);
  }
}

/** Console output as `O<hex>` packets that each fit the negotiated packet size. */
export function consolePackets(output: string, packetSize: number): string[] {
  const hex = textToHex(output);
  const chunk = (packetSize - 8) & ~1;
  const packets: string[] = [];
  for (let i = 0; i < hex.length; i += chunk) packets.push('O' + hex.slice(i, i + chunk));
  return packets;
}
