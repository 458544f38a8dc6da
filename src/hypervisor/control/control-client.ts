import { connect } from 'node:net';
import { resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ZoneSummary } from '../lifecycle/hypervisor.js';
import type { ControlAddress, ControlRequest, ControlResponse } from './control-protocol.js';
import { HvisorError } from '../../util/hvisor-error.js';
import { printable } from '../../util/printable.js';

/**
 * Where `hvisor run` listens and `hvisor zone …` connects unless told otherwise: the user's
 * runtime folder, or a name with the uid in the shared temporary folder (users never collide).
 */
export function defaultControlAddress(): ControlAddress {
  const runtime = process.env['XDG_RUNTIME_DIR'];
  return { path: runtime !== undefined && runtime !== '' ? join(runtime, 'hvisor-ts.sock') : join(tmpdir(), `hvisor-ts-${process.getuid?.() ?? 0}.sock`) };
}

/** The control channel could not be used, or the hypervisor refused the request. */
export class ControlError extends HvisorError {}

/** Sends one request and returns the successful response (or throws ControlError). */
export function controlRequest(address: ControlAddress, request: ControlRequest, timeoutMs = 10_000): Promise<ControlResponse & { ok: true }> {
  const where = address.path;
  return new Promise((resolvePromise, reject) => {
    const socket = connect(address.path);
    let buffered = '';
    const fail = (why: string) => {
      socket.destroy();
      reject(new ControlError(why));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer from the hypervisor at ${where} within ${timeoutMs} ms`));
    socket.on('error', (e) => fail(`cannot reach a running hypervisor at ${where} (${e.message}); is \`hvisor run\` running?`));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      socket.end();
      let response: ControlResponse;
      try {
        response = JSON.parse(buffered.slice(0, nl)) as ControlResponse;
      } catch {
        return fail(`garbled answer from ${where}`);
      }
      if (response.ok) resolvePromise(response);
      else reject(new ControlError(response.error, response.errno));
    });
    socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'));
  });
}

export const zoneList = (a: ControlAddress) => controlRequest(a, { cmd: 'list' });
/** The file path is made absolute here: the hypervisor may run in another directory. */
export const zoneStart = (a: ControlAddress, file: string) => controlRequest(a, { cmd: 'start', file: resolve(file) });
export const zoneShutdown = (a: ControlAddress, id: number) => controlRequest(a, { cmd: 'shutdown', id });
export const zoneRestart = (a: ControlAddress, id: number) => controlRequest(a, { cmd: 'restart', id });

/**
 * The table hvisor-tool's `hvisor zone list` prints (tools/hvisor.c: right-aligned printf columns,
 * CPUs as "2, 3", status "running" or "error"); ours may also say "halted" (by gdb) or "stopped".
 */
export function formatZoneList(zones: readonly ZoneSummary[]): string {
  const r = (text: string, width: number) => text.padStart(width);
  let out = `| ${r('zone_id', 11)}     | ${r('cpus', 10)}        | ${r('name', 9)}       | ${r('status', 10)} |\n`;
  for (const z of zones) {
    const status = z.crash !== undefined ? 'error' : z.halted ? 'halted' : z.state;
    out += `| ${r(String(z.id), 15)} | ${r(z.cpus.join(', ') || 'none', 17)} | ${r(printable(z.name), 15)} | ${r(status, 10)} |\n`;
  }
  return out;
}
