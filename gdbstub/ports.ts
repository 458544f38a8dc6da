/** Default `--gdb-base-port`: zone0 listens on 1234 (gdb's and QEMU's habit), zone N on 1234 + N. */
export const DEFAULT_GDB_BASE_PORT = 1234;

export class GdbPortError extends Error {
  override readonly name = 'GdbPortError';
}

/**
 * The port of a zone's stub: the zone config's own port if it names one, else base + zone index.
 * Rejects ports outside 1..65535 with the zone named.
 */
export function gdbPortForZone(zoneIndex: number, basePort = DEFAULT_GDB_BASE_PORT, configured?: number): number {
  const port = configured ?? basePort + zoneIndex;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new GdbPortError(`zone ${zoneIndex}: gdb port ${port} is outside 1..65535 (base ${basePort})`);
  }
  return port;
}

/**
 * The exact command a user runs to debug a zone, printed by the CLI for each zone. `port` may be a
 * Unix socket's path instead (gdb's `target remote /path/to/socket`).
 */
export function gdbCommandLine(port: number | string, host = '127.0.0.1', elf?: string): string {
  const file = elf ? ` ${shellQuote(elf)}` : '';
  if (typeof port === 'string') return `gdb-multiarch${file} -ex ${shellQuote(`target remote ${port}`)}`;
  // gdb takes IPv6 literals in brackets: target remote [::1]:1234.
  const address = host.includes(':') ? `[${host}]` : host;
  return `gdb-multiarch${file} -ex "target remote ${address}:${port}"`;
}

function shellQuote(text: string): string {
  return /^[\w./+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
