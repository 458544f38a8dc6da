import { randomBytes } from 'node:crypto';
import chalk from 'chalk';
import type { Argv, CommandModule } from 'yargs';
import { defaultControlAddress } from '../../hypervisor/control/control-client.js';
import { DEFAULT_GDB_BASE_PORT, launch, type Instance } from '../launch.js';
import { parseMemorySize } from './board.js';
import { UsageError, exclusiveFlags, integerFlag } from '../flag-checks.js';
import { printable } from '../../util/printable.js';
import { TIME_MODES, type TimeMode } from '../../hypervisor/zone/virtual-clock.js';
import { readRecordedRun } from '../recorded-run.js';
import type { ReplayOutcome } from '../../hypervisor/replay/record-replay.js';

interface RunArgs {
  board: string;
  dtb?: string;
  cpus?: number;
  memory?: string;
  zone: string[];
  'gdb-base-port'?: number;
  'gdb-host'?: string;
  'gdb-socket-dir'?: string;
  gdb: boolean;
  control?: string;
  virtio?: string;
  pci?: string;
  'config-version': number;
  seconds?: number;
  time?: string;
  'guest-mips'?: number;
  kernel?: string;
  initrd?: string;
  append?: string;
  force?: boolean;
  'wait-gdb'?: boolean;
  'kaslr-seed'?: string;
  record?: string;
  replay?: string;
  'snapshot-every'?: number;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run',
  describe: 'Run a board partitioned into zones, each with its own gdb stub (default: qemu-virt-riscv64 with the demo zone0 and zoneR)',
  builder: (yargs: Argv) =>
    yargs
      .option('board', { type: 'string', default: 'qemu-virt-riscv64', describe: 'board name (hvisor board list)' })
      .option('dtb', { type: 'string', describe: 'the board DTB to use instead of the generated one' })
      .option('force', { type: 'boolean', describe: 'use a DTB whose root compatible the board does not model' })
      .option('kernel', { type: 'string', describe: 'bring-up run: one zone holding the whole board boots this kernel Image (as QEMU -kernel)' })
      .option('initrd', { type: 'string', describe: 'bring-up run: the initramfs (as QEMU -initrd)' })
      .option('append', { type: 'string', describe: 'bring-up run: the kernel command line (default: the DTB\'s /chosen bootargs)' })
      .option('cpus', { type: 'number', describe: 'CPUs of a generated board tree' })
      .option('memory', { type: 'string', describe: 'RAM of a generated board tree, e.g. 2G' })
      .option('zone', { type: 'string', array: true, default: [], describe: 'zone config (hvisor-tool JSON), zone0 first; repeat for more zones' })
      .option('gdb-base-port', { type: 'number', describe: `zone N listens on base + N (default $HVISOR_GDB_BASE_PORT, else ${DEFAULT_GDB_BASE_PORT}; 0: ports the OS picks)` })
      .option('gdb-host', { type: 'string', describe: 'address the gdb stubs bind to (default 127.0.0.1: local users only)' })
      .option('gdb-socket-dir', { type: 'string', describe: 'serve zone N\'s gdb stub on DIR/zoneN.sock (mode 0600: you and root only) instead of TCP; for shared hosts' })
      .option('gdb', { type: 'boolean', default: true, describe: 'serve gdb (--no-gdb: none)' })
      .option('wait-gdb', { alias: 'S', type: 'boolean', describe: 'every zone holds at its first instruction until its gdb says continue (as QEMU -S)' })
      .option('control', { type: 'string', describe: `control socket for \`hvisor zone\` (mode 0600; default ${defaultControlAddress().path})` })
      .option('virtio', { type: 'string', describe: 'virtio devices for the zones (hvisor-tool virtio_cfg.json)' })
      .option('pci', { type: 'string', describe: 'the board\'s PCI functions and their backing files (JSON); zones take them with alloc_pci_devs' })
      .option('config-version', { type: 'number', default: 6, describe: 'the zone_config layout zone0\'s hvisor-tool sends: 6 (hvisor-tool main) or 5 (hvisor v0.4)' })
      .option('time', { type: 'string', describe: 'guest time: virtual (default: from the instructions each zone retires, paced to the host clock while idle), warp (idle time jumps at once) or realtime (the host clock)' })
      .option('guest-mips', { type: 'number', describe: 'virtual time: guest instructions per microsecond (default 1000, one instruction per ns)' })
      .option('kaslr-seed', { type: 'string', describe: 'put a kaslr-seed in each generated zone device tree (as real boards\' firmware does), derived from SEED (a number, or "random"); default none: kernels run at their link addresses' })
      .option('record', { type: 'string', describe: 'record every zone\'s outside input (console, network, host clock reads) and console output into DIR, for --replay' })
      .option('replay', { type: 'string', describe: 'replay the run recorded in DIR (its board and zones): the same inputs at the same instruction counts, checking each zone writes the same console bytes; exits 0 when it did, 1 naming the first divergence' })
      .option('snapshot-every', { type: 'number', describe: 'each zone keeps a checkpoint snapshot every N instructions (the last two: monitor snapshot load auto-COUNT in its gdb; a replay goes on from there)' })
      .option('seconds', { type: 'number', describe: 'one-shot run: stop after this many seconds or once every zone has stopped, exiting with the guests\' status (default: until Ctrl-C)' }) as unknown as Argv<RunArgs>,
  handler: async (args) => {
    checkRunFlags(args);
    const recorded = args.replay !== undefined ? readRecordedRun(args.replay) : undefined;
    const instance = await launch({
      board: args.board,
      ...(args.dtb !== undefined && { dtb: args.dtb }),
      params: {
        ...(args.cpus !== undefined && { cpus: args.cpus }),
        ...(args.memory !== undefined && { memoryBytes: parseMemorySize(args.memory, args.board) }),
      },
      zones: args.zone,
      ...(args.force === true && { force: true }),
      ...(args.kernel !== undefined && { bringUp: { kernel: args.kernel, ...(args.initrd !== undefined && { initrd: args.initrd }), ...(args.append !== undefined && { append: args.append }) } }),
      gdbBasePort: args.gdb ? (args['gdb-base-port'] ?? defaultGdbBasePort()) : false,
      gdbHost: args['gdb-host'] ?? '127.0.0.1',
      ...(args['gdb-socket-dir'] !== undefined && { gdbSocketDir: args['gdb-socket-dir'] }),
      control: args.control !== undefined ? { path: args.control } : defaultControlAddress(),
      ...(args.virtio !== undefined && { virtio: args.virtio }),
      ...(args.pci !== undefined && { pci: args.pci }),
      configVersion: args['config-version'],
      time: {
        ...(args.time !== undefined && { mode: args.time as TimeMode }),
        ...(args['guest-mips'] !== undefined && { instructionsPerSecond: args['guest-mips'] * 1e6 }),
      },
      ...(args['kaslr-seed'] !== undefined && { kaslrSeed: kaslrSeedFlag(args['kaslr-seed']) }),
      holdOutput: true,
      ...(args['wait-gdb'] === true && { waitGdb: true }),
      ...recorded,
      ...(args['snapshot-every'] !== undefined && { snapshotEvery: args['snapshot-every'] }),
      ...(args.record !== undefined && { recordReplay: { mode: 'record' as const, dir: args.record } }),
      ...(args.replay !== undefined && { recordReplay: { mode: 'replay' as const, dir: args.replay } }),
    });
    printBanner(instance);
    instance.consoles.release();
    const replay = instance.recordReplay?.mode === 'replay' ? instance.recordReplay.outcome.then(reportReplay) : undefined;
    const status = await runUntilStopped(instance, args.seconds, replay);
    if (status !== 0) process.exitCode = status;
  },
};

/** The combinations and ranges `hvisor run` cannot honour, each a one-line UsageError. */
function checkRunFlags(args: RunArgs): void {
  integerFlag('cpus', args.cpus, 1, 512);
  integerFlag('snapshot-every', args['snapshot-every'], 1_000_000, Number.MAX_SAFE_INTEGER);
  integerFlag('gdb-base-port', args['gdb-base-port'], 0, 65535);
  if (args.time !== undefined && !(TIME_MODES as readonly string[]).includes(args.time)) throw new UsageError(`--time: one of ${TIME_MODES.join(', ')}, got ${JSON.stringify(args.time)}`);
  if (args['guest-mips'] !== undefined && !(args['guest-mips'] >= 1 && args['guest-mips'] <= 1e6)) throw new UsageError(`--guest-mips: a number from 1 to 1000000, got ${args['guest-mips']}`);
  if (args.seconds !== undefined && !(args.seconds >= 0 && args.seconds <= 365 * 86400)) throw new UsageError(`--seconds: a number of seconds from 0 up, got ${args.seconds}`);
  exclusiveFlags(args as unknown as Record<string, unknown>, ['gdb-socket-dir'], ['gdb-base-port', 'gdb-host'], 'with --gdb-socket-dir the stubs listen on Unix sockets, not TCP');
  if (!args.gdb) {
    const tcp = (['gdb-socket-dir', 'gdb-base-port', 'gdb-host'] as const).find((k) => args[k] !== undefined);
    if (tcp !== undefined) throw new UsageError(`--no-gdb and --${tcp} cannot be used together: --no-gdb serves no stub`);
    if (args['wait-gdb'] === true) throw new UsageError('--no-gdb and --wait-gdb cannot be used together: no gdb could say continue');
  }
  for (const [flag, value] of [['dtb', args.dtb], ['virtio', args.virtio], ['pci', args.pci], ['control', args.control], ['gdb-socket-dir', args['gdb-socket-dir']], ['gdb-host', args['gdb-host']]] as const) {
    if (value === '') throw new UsageError(`--${flag}: empty`);
  }
  for (const [i, z] of args.zone.entries()) if (z === '') throw new UsageError(`--zone #${i + 1}: empty`);
  if (args.record === '' || args.replay === '') throw new UsageError(`--${args.record === '' ? 'record' : 'replay'}: empty`);
  exclusiveFlags(args as unknown as Record<string, unknown>, ['record'], ['replay'], 'a run records or replays, not both');
  if (args.replay !== undefined) {
    const given = (['board', 'dtb', 'kernel', 'initrd', 'append', 'cpus', 'memory', 'virtio', 'pci', 'time', 'guest-mips', 'force', 'kaslr-seed'] as const).find((k) => args[k] !== undefined && !(k === 'board' && args.board === 'qemu-virt-riscv64'));
    if (given !== undefined || args.zone.length > 0) throw new UsageError(`--replay DIR launches the run DIR/run.json describes: --${given ?? 'zone'} cannot be given with it`);
  }
}

/** A replay's verdict as one line; resolves to the exit status (0: the zones did what they did). */
function reportReplay(outcome: ReplayOutcome): number {
  if (!outcome.ok) {
    console.error(chalk.red(printable(outcome.divergence.message)));
    return 1;
  }
  const zones = outcome.zones.map((z) => `zone ${z.zone}: ${z.events} events, ${z.instructions} instructions, ${z.output} console bytes`).join('; ');
  console.log(chalk.green(`replay matches the recording (${zones})`));
  return 0;
}

/** `--kaslr-seed`: a 64-bit number (decimal or 0x hex), or `random` (the banner prints the one picked). */
function kaslrSeedFlag(value: unknown): bigint {
  if (value === 'random') return BigInt.asUintN(64, BigInt('0x' + randomBytes(8).toString('hex')));
  if (typeof value === 'string' && /^(0x[0-9a-f]{1,16}|[0-9]{1,20})$/i.test(value) && BigInt(value) < 1n << 64n) return BigInt(value);
  throw new UsageError(`--kaslr-seed: a 64-bit number (decimal or 0x hex) or "random", got ${printable(JSON.stringify(value))}`);
}

function printBanner(instance: Instance): void {
  const { build } = instance;
  const control = instance.control?.bound;
  console.log(chalk.bold(`hvisor-ts: ${build.board.title}`) + chalk.dim(` · ${build.generated ? 'generated device tree' : 'given DTB'}`));
  for (const line of instance.summary) console.log('  ' + line);
  if (control !== undefined) console.log(chalk.dim(`  control: hvisor zone list --control ${control.path}`));
  console.log(chalk.dim('  keyboard input goes to zone0; Ctrl-C stops everything'));
}

/**
 * Runs until Ctrl-C, forwarding the keyboard to zone0's UART. A one-shot run (`seconds`) also ends
 * when that time is up or when every zone has stopped; it resolves to the guests' exit status then.
 */
function runUntilStopped(instance: Instance, seconds: number | undefined, replay?: Promise<number>): Promise<number> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    const raw = stdin.isTTY === true;
    let timer: NodeJS.Timeout | undefined;
    const onData = (data: Buffer) => {
      if (raw && data.includes(3)) return stop(); // Ctrl-C in raw mode
      instance.consoles.type(0, data);
    };
    let status = 0;
    let done = false;
    const stop = () => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      stdin.removeListener('data', onData);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      void instance.close().then(() => {
        for (const z of instance.hypervisor.list()) {
          const exit = z.exitStatus ? ` (exit status ${z.exitStatus})` : '';
          console.log(chalk.dim(`zone ${z.id} ${printable(z.name)}: ${z.crash !== undefined ? chalk.red(`crashed: ${printable(z.crash)}`) : z.state + exit}`));
        }
        resolve(status);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (seconds !== undefined) {
      timer = setTimeout(stop, seconds * 1000);
      void instance.stopped.then((end) => {
        status = end.status;
        console.log(chalk.dim(printable(end.reason)));
        stop();
      });
    }
    // A replay ends with its verdict (a debugger attached to it may keep it at a stop meanwhile).
    void replay?.then((code) => {
      status = code;
      stop();
    });
    if (raw) stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** $HVISOR_GDB_BASE_PORT (0: ports the OS picks, as a test running the README's lines wants), else 1234. */
function defaultGdbBasePort(): number {
  const env = process.env['HVISOR_GDB_BASE_PORT'];
  if (env === undefined || env === '') return DEFAULT_GDB_BASE_PORT;
  const port = Number(env);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`HVISOR_GDB_BASE_PORT="${env}" is not a port number (0..65535)`);
  return port;
}
