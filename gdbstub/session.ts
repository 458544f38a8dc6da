import { ACK, NAK, PacketDecoder, PacketEncoder, type PacketEvents } from './packet.js';
import { E_FAULT, E_INVALID, E_REFUSED, PacketError, bytesToHex, byteToHex, hexToBytes, parseHexBigint, parseHexNumber, splitPair, textToHex, hexToText } from './hex.js';
import { RegisterMap, TargetDescriptionFiles } from './target-xml.js';
import { consolePackets, runMonitorCommand, type MonitorResult } from './stub-monitor.js';

/** How often a slow `monitor` command reassures gdb that the answer is coming. */
const MONITOR_KEEPALIVE_MS = 500;
import { memoryMapXml, threadListXml, xferChunk } from './xfer-documents.js';
import type { GdbTarget, StopEvent, ThreadInfo, WatchpointKind } from './target.js';
import { VCONT_SUPPORTED, parseVCont, type ResumePlan } from './resume.js';
import { ZONE_PID, formatThreadId, parseThreadId } from './thread-id.js';

/** Where a session writes its bytes; the server implements it over a socket. */
export interface SessionTransport {
  write(bytes: Buffer): void;
  /** End the connection after what was written (k / vKill). */
  end(): void;
}

export interface SessionOptions {
  /** Advertised PacketSize (bytes of packet data gdb may send / we may reply). Default 0x4000. */
  readonly packetSize?: number;
  /** Protocol diagnostics (malformed packets, target errors); silent by default. */
  readonly log?: (line: string) => void;
}

const SIGTRAP = 5;
const SIGINT = 2;

/**
 * One gdb connection to one zone: decodes packets, answers them from the GdbTarget, reports stops.
 * All-stop: a resume runs the zone until the target reports a stop (or Ctrl-C halts it).
 */
export class GdbSession implements PacketEvents {
  readonly packetSize: number;
  private readonly decoder: PacketDecoder;
  private readonly encoder = new PacketEncoder();
  private readonly registers: RegisterMap;
  private readonly xml: TargetDescriptionFiles;
  private readonly log: (line: string) => void;
  private lastReply: Buffer | undefined;
  private noAckPending = false;

  private multiprocess = false;
  private reportSwBreak = false;
  private reportHwBreak = false;
  private physical = false;

  /** Thread for g/G/p/P/m/M (Hg) and for legacy c/s (Hc); 0 = any. */
  private gThread = 0;
  private cThread = 0;
  /** A resume or `?` is waiting for the target's stop. */
  private waitingForStop = false;
  /** The pending stop was asked for by `?` (report SIGTRAP as QEMU does, not SIGINT). */
  private waitingIsQuery = false;
  private lastStop: StopEvent | undefined;
  private ended = false;
  /** Breakpoints/watchpoints this session inserted, so detach/disconnect can remove them. */
  private readonly inserted = new Map<string, () => void>();
  private threadXfer: string | undefined;

  constructor(
    private readonly target: GdbTarget,
    private readonly transport: SessionTransport,
    options: SessionOptions = {},
  ) {
    this.packetSize = options.packetSize ?? 0x4000;
    this.log = options.log ?? (() => {});
    this.registers = new RegisterMap(target.description);
    this.xml = new TargetDescriptionFiles(target.description);
    this.decoder = new PacketDecoder(this, (ack) => transport.write(ack === '+' ? ACK : NAK), this.packetSize);
    target.onStop((event) => this.onTargetStop(event));
    // Connecting halts the zone (only this zone), as attaching does on QEMU.
    if (!target.halted) target.halt();
  }

  /** Bytes from the client. */
  feed(bytes: Uint8Array): void {
    if (!this.ended) this.decoder.feed(bytes);
  }

  /** The client went away (or detached): drop our breakpoints, let the zone run on. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.target.onStop(undefined);
    this.removeInserted();
    try {
      if (this.target.halted) this.target.resume(new Map(), 'continue');
    } catch (e) {
      // Called from a socket event: a failing target must not take the process down.
      this.log(`gdbstub: resuming the zone after the debugger left: ${(e as Error).message}`);
    }
  }

  get isEnded(): boolean {
    return this.ended;
  }

  // --- PacketEvents --------------------------------------------------------------------------

  packet(payload: string): void {
    let reply: string | undefined;
    try {
      reply = this.dispatch(payload);
    } catch (e) {
      if (e instanceof PacketError) {
        this.log(`gdbstub: ${e.message}`);
        reply = e.code;
      } else {
        this.log(`gdbstub: '${payload.slice(0, 40)}' failed: ${(e as Error).stack ?? e}`);
        reply = E_REFUSED;
      }
    }
    if (reply !== undefined) this.reply(reply);
    if (this.noAckPending) {
      this.noAckPending = false;
      this.decoder.ackMode = false;
    }
  }

  interrupt(): void {
    if (!this.waitingForStop || this.waitingIsQuery) return;
    try {
      this.target.halt();
    } catch (e) {
      this.log(`gdbstub: Ctrl-C: the target failed to halt: ${(e as Error).message}`);
    }
  }

  nak(): void {
    if (this.lastReply) this.transport.write(this.lastReply);
  }

  oversized(length: number): void {
    this.log(`gdbstub: dropped a ${length}-byte packet (PacketSize ${this.packetSize.toString(16)})`);
    this.reply(E_INVALID);
  }

  // --- replies ---------------------------------------------------------------------------------

  private reply(text: string): void {
    this.send(this.encoder.text(text));
  }

  private send(bytes: Buffer): void {
    this.lastReply = bytes;
    if (!this.ended) this.transport.write(bytes);
  }

  // --- dispatch --------------------------------------------------------------------------------

  /** Returns the reply, or undefined when it comes later (resume) or never (k). */
  private dispatch(p: string): string | undefined {
    switch (p[0]) {
      case '?':
        return this.stopQuery();
      case 'g':
        return p.length === 1 ? this.readAllRegisters() : '';
      case 'G':
        return this.writeAllRegisters(p.slice(1));
      case 'p':
        return this.readRegister(p.slice(1));
      case 'P':
        return this.writeRegister(p.slice(1));
      case 'm':
        return this.readMemory(p.slice(1));
      case 'M':
        return this.writeMemoryHex(p.slice(1));
      case 'X':
        return this.writeMemoryBinary(p.slice(1));
      case 'c':
      case 'C':
        return this.legacyResume('continue', p);
      case 's':
      case 'S':
        return this.legacyResume('step', p);
      case 'b':
        return this.reverse(p);
      case 'v':
        return this.vPacket(p);
      case 'Z':
      case 'z':
        return this.breakpoint(p);
      case 'H':
        return this.setThread(p);
      case 'T':
        return this.threadAlive(p.slice(1));
      case 'q':
        return this.query(p);
      case 'Q':
        return this.set(p);
      case 'D':
        return this.detach();
      case 'k':
        this.kill(false);
        return undefined;
      case '!':
        return 'OK';
      default:
        return '';
    }
  }

  // --- stop reporting ----------------------------------------------------------------------

  private stopQuery(): string | undefined {
    if (this.target.halted) return this.stopReply(this.lastStop ?? { kind: 'interrupted', thread: this.firstThread() }, true);
    if (this.waitingForStop) throw new PacketError(E_INVALID, "'?' while the zone is running");
    this.waitingForStop = true;
    this.waitingIsQuery = true;
    this.target.halt();
    return undefined;
  }

  private onTargetStop(event: StopEvent): void {
    this.lastStop = event;
    if (event.kind !== 'exited') this.gThread = this.cThread = event.thread;
    if (!this.waitingForStop || this.ended) return;
    const query = this.waitingIsQuery;
    this.waitingForStop = false;
    this.waitingIsQuery = false;
    this.threadXfer = undefined;
    this.reply(this.stopReply(event, query));
  }

  private stopReply(event: StopEvent, query: boolean): string {
    if (event.kind === 'exited') {
      const code = byteToHex(event.code);
      return this.multiprocess ? `W${code};process:${ZONE_PID.toString(16)}` : `W${code}`;
    }
    let signal = SIGTRAP;
    let why = '';
    switch (event.kind) {
      case 'breakpoint':
        if (event.hw ? this.reportHwBreak : this.reportSwBreak) why = event.hw ? 'hwbreak:;' : 'swbreak:;';
        break;
      case 'watchpoint':
        why = `${event.watch === 'write' ? 'watch' : event.watch === 'read' ? 'rwatch' : 'awatch'}:${event.address.toString(16)};`;
        break;
      case 'interrupted':
        if (!query) signal = SIGINT;
        break;
      case 'signal':
        signal = event.signal;
        break;
      case 'step':
        break;
      case 'history-start':
        why = 'replaylog:begin;';
        break;
    }
    let reply = `T${byteToHex(signal)}thread:${formatThreadId(event.thread, this.multiprocess)};${why}`;
    try {
      for (const regno of this.target.description.expedite) {
        const value = this.target.readRegister(event.thread, regno);
        if (value) reply += `${regno.toString(16)}:${this.registerHex(regno, value)};`;
      }
    } catch (e) {
      // Expedited registers only save gdb a round trip: report the stop without them.
      this.log(`gdbstub: expedited registers of thread ${event.thread}: ${(e as Error).message}`);
    }
    return reply;
  }

  // --- registers -----------------------------------------------------------------------------

  private readAllRegisters(): string {
    const thread = this.selected(this.gThread);
    let out = '';
    for (const r of this.registers.gLayout) {
      const value = this.target.readRegister(thread, r.regno);
      out += value ? this.registerHex(r.regno, value) : 'xx'.repeat(r.bits / 8);
    }
    return out;
  }

  private writeAllRegisters(hex: string): string {
    const thread = this.selected(this.gThread);
    let offset = 0;
    for (const r of this.registers.gLayout) {
      if (offset >= hex.length) break;
      const width = r.bits / 4;
      if (offset + width > hex.length) throw new PacketError(E_INVALID, `G: register ${r.name} truncated`);
      const text = hex.slice(offset, offset + width);
      offset += width;
      if (text.startsWith('xx')) continue;
      if (!this.target.writeRegister(thread, r.regno, hexToBytes(text, `G ${r.name}`))) return E_FAULT;
    }
    if (offset < hex.length) throw new PacketError(E_INVALID, 'G: longer than the g packet layout');
    return 'OK';
  }

  private readRegister(args: string): string {
    const regno = parseHexNumber(args, 'p');
    const r = this.registers.get(regno);
    if (!r) throw new PacketError(E_FAULT, `p: register ${regno} is not described`);
    const value = this.target.readRegister(this.selected(this.gThread), regno);
    return value ? this.registerHex(regno, value) : 'xx'.repeat(r.bits / 8);
  }

  private writeRegister(args: string): string {
    const [n, v] = splitPair(args, '=', 'P');
    const regno = parseHexNumber(n, 'P');
    const r = this.registers.get(regno);
    if (!r) throw new PacketError(E_FAULT, `P: register ${regno} is not described`);
    if (v.length !== r.bits / 4) throw new PacketError(E_INVALID, `P: ${r.name} needs ${r.bits / 4} hex digits, got ${v.length}`);
    return this.target.writeRegister(this.selected(this.gThread), regno, hexToBytes(v, `P ${r.name}`)) ? 'OK' : E_FAULT;
  }

  /** Exactly the register's width in hex, whatever the target handed back. */
  private registerHex(regno: number, value: Uint8Array): string {
    const bytes = (this.registers.get(regno)?.bits ?? value.length * 8) / 8;
    if (value.length === bytes) return bytesToHex(value);
    const fixed = new Uint8Array(bytes);
    fixed.set(value.subarray(0, bytes));
    return bytesToHex(fixed);
  }

  // --- memory --------------------------------------------------------------------------------

  /** Largest `m` we answer in full: the hex reply must fit gdb's PacketSize buffer. */
  private get maxRead(): number {
    return (this.packetSize - 8) >> 1;
  }

  private readMemory(args: string): string {
    const [a, l] = splitPair(args, ',', 'm');
    const address = parseHexBigint(a, 'm address');
    const length = Math.min(parseHexNumber(l, 'm length'), this.maxRead);
    if (length === 0) return '';
    const data = this.target.readMemory(this.selected(this.gThread), address, length, this.physical);
    // A read running off mapped memory returns the mapped prefix; nothing mapped is EFAULT.
    return data.length === 0 ? E_FAULT : bytesToHex(data.length > length ? data.subarray(0, length) : data);
  }

  private writeMemoryHex(args: string): string {
    const [head, hex] = splitPair(args, ':', 'M');
    const [a, l] = splitPair(head, ',', 'M');
    const address = parseHexBigint(a, 'M address');
    const length = parseHexNumber(l, 'M length');
    if (hex.length !== length * 2) throw new PacketError(E_INVALID, `M: length ${length} but ${hex.length / 2} bytes of data`);
    return this.writeMemory(address, hexToBytes(hex, 'M data'));
  }

  private writeMemoryBinary(args: string): string {
    const [head, data] = splitPair(args, ':', 'X');
    const [a, l] = splitPair(head, ',', 'X');
    const address = parseHexBigint(a, 'X address');
    const length = parseHexNumber(l, 'X length');
    if (data.length !== length) throw new PacketError(E_INVALID, `X: length ${length} but ${data.length} bytes of data`);
    if (length === 0) return 'OK'; // gdb's probe for X support
    return this.writeMemory(address, Uint8Array.from(Buffer.from(data, 'latin1')));
  }

  private writeMemory(address: bigint, data: Uint8Array): string {
    const written = this.target.writeMemory(this.selected(this.gThread), address, data, this.physical);
    return written === data.length ? 'OK' : E_FAULT;
  }

  // --- resume --------------------------------------------------------------------------------

  private legacyResume(action: 'continue' | 'step', p: string): string | undefined {
    // `C sig[;addr]`, `S sig[;addr]`, `c[addr]`, `s[addr]`: the resume address is not supported.
    const rest = p[0] === 'C' || p[0] === 'S' ? p.slice(3) : p.slice(1);
    if (rest.length > 0) throw new PacketError(E_INVALID, `${p[0]}: resuming at an address is not supported`);
    if (action === 'continue') return this.resume({ actions: new Map(), otherwise: 'continue' });
    const thread = this.selected(this.cThread);
    return this.resume({ actions: new Map([[thread, 'step']]), otherwise: 'stop' });
  }

  /** `bs` / `bc`: one instruction back, or back to a breakpoint, watchpoint or the start of history. */
  private reverse(p: string): string | undefined {
    if (this.target.reverse === undefined || (p !== 'bs' && p !== 'bc')) return '';
    if (this.waitingForStop) throw new PacketError(E_INVALID, 'reverse execution while the zone is running');
    const thread = this.selected(this.cThread);
    this.waitingForStop = true;
    this.waitingIsQuery = false;
    this.lastStop = undefined;
    try {
      this.target.reverse(p === 'bs' ? 'step' : 'continue', thread);
    } catch (e) {
      this.waitingForStop = false;
      throw e;
    }
    return undefined;
  }

  private resume(plan: ResumePlan): string | undefined {
    if (this.waitingForStop) throw new PacketError(E_INVALID, 'resume while the zone is already running');
    this.waitingForStop = true;
    this.waitingIsQuery = false;
    this.lastStop = undefined;
    try {
      this.target.resume(plan.actions, plan.otherwise);
    } catch (e) {
      this.waitingForStop = false;
      throw e;
    }
    return undefined;
  }

  private vPacket(p: string): string | undefined {
    if (p === 'vCont?') return VCONT_SUPPORTED;
    if (p.startsWith('vCont;')) return this.resume(parseVCont(p.slice(6), this.target.threads()));
    if (p === 'vKill' || p.startsWith('vKill;')) {
      this.kill(true);
      return undefined;
    }
    if (p.startsWith('vAttach;')) {
      parseThreadId('p' + p.slice(8), 'vAttach');
      return this.stopQuery();
    }
    return ''; // vMustReplyEmpty, vFile, vRun…: unsupported
  }

  // --- breakpoints and watchpoints -----------------------------------------------------------

  private breakpoint(p: string): string {
    const insert = p[0] === 'Z';
    const type = p[1];
    if (p[2] !== ',' || type === undefined || type < '0' || type > '4') return '';
    const [a, rest] = splitPair(p.slice(3), ',', p.slice(0, 2));
    const address = parseHexBigint(a, `${p.slice(0, 2)} address`);
    const kind = parseHexNumber(rest.split(';')[0]!, `${p.slice(0, 2)} kind`);
    const key = `${type}:${address.toString(16)}:${kind}`;
    let ok: boolean;
    let undo: () => void;
    if (type === '0' || type === '1') {
      const hw = type === '1';
      ok = this.target.setBreakpoint(address, hw, insert);
      undo = () => this.target.setBreakpoint(address, hw, false);
    } else {
      const watch: WatchpointKind = type === '2' ? 'write' : type === '3' ? 'read' : 'access';
      ok = this.target.setWatchpoint(address, kind, watch, insert);
      undo = () => this.target.setWatchpoint(address, kind, watch, false);
    }
    if (!ok) return E_REFUSED;
    if (insert) this.inserted.set(key, undo);
    else this.inserted.delete(key);
    return 'OK';
  }

  private removeInserted(): void {
    for (const [key, undo] of this.inserted) {
      try {
        undo();
      } catch (e) {
        this.log(`gdbstub: removing ${key}: ${(e as Error).message}`);
      }
    }
    this.inserted.clear();
  }

  // --- threads -------------------------------------------------------------------------------

  private threads(): readonly ThreadInfo[] {
    return this.target.threads();
  }

  private firstThread(): number {
    return this.threads()[0]?.id ?? 1;
  }

  /** The thread an H selection means now: itself if it exists, else the first vCPU. */
  private selected(selection: number): number {
    if (selection > 0 && this.threads().some((t) => t.id === selection)) return selection;
    return this.firstThread();
  }

  private setThread(p: string): string {
    const op = p[1];
    if (op !== 'g' && op !== 'c') return '';
    const sel = parseThreadId(p.slice(2), `H${op}`);
    let id = 0;
    if (typeof sel === 'number') {
      if (!this.threads().some((t) => t.id === sel)) return E_INVALID;
      id = sel;
    }
    if (op === 'g') this.gThread = id;
    else this.cThread = id;
    return 'OK';
  }

  private threadAlive(args: string): string {
    const sel = parseThreadId(args, 'T');
    return typeof sel === 'number' && this.threads().some((t) => t.id === sel) ? 'OK' : E_INVALID;
  }

  // --- queries -------------------------------------------------------------------------------

  private query(p: string): string | undefined {
    const colon = p.indexOf(':');
    const comma = p.indexOf(',');
    const nameEnd = Math.min(colon < 0 ? p.length : colon, comma < 0 ? p.length : comma);
    const name = p.slice(0, nameEnd);
    switch (name) {
      case 'qSupported':
        return this.supported(colon < 0 ? '' : p.slice(colon + 1));
      case 'qXfer':
        return this.xfer(p.slice(nameEnd + 1));
      case 'qfThreadInfo':
        return 'm' + this.threads().map((t) => formatThreadId(t.id, this.multiprocess)).join(',');
      case 'qsThreadInfo':
        return 'l';
      case 'qThreadExtraInfo': {
        const sel = parseThreadId(p.slice(nameEnd + 1), 'qThreadExtraInfo');
        const t = this.threads().find((x) => x.id === sel);
        if (!t) return E_INVALID;
        return textToHex(`${t.name}, ${t.extra}`);
      }
      case 'qC':
        return 'QC' + formatThreadId(this.selected(this.gThread), this.multiprocess);
      case 'qAttached':
        return '1';
      case 'qRcmd':
        return this.monitor(hexToText(p.slice(nameEnd + 1), 'qRcmd'));
      case 'qSymbol':
        return 'OK';
      case 'qqemu.Supported':
        return 'PhyMemMode';
      case 'qqemu.PhyMemMode':
        return this.physical ? '1' : '0';
      default:
        return ''; // qOffsets, qTStatus, qTfV…: not supported
    }
  }

  private set(p: string): string {
    if (p === 'QStartNoAckMode') {
      // The OK still travels with acks; the mode switches once it is sent.
      this.noAckPending = true;
      return 'OK';
    }
    if (p.startsWith('Qqemu.PhyMemMode:')) {
      const v = p.slice('Qqemu.PhyMemMode:'.length);
      if (v !== '0' && v !== '1') return E_INVALID;
      this.physical = v === '1';
      return 'OK';
    }
    return '';
  }

  private supported(features: string): string {
    for (const f of features.split(';')) {
      if (f === 'multiprocess+') this.multiprocess = true;
      else if (f === 'swbreak+') this.reportSwBreak = true;
      else if (f === 'hwbreak+') this.reportHwBreak = true;
    }
    let reply =
      `PacketSize=${this.packetSize.toString(16)};QStartNoAckMode+;qXfer:features:read+;qXfer:threads:read+;` +
      `vContSupported+;swbreak+;hwbreak+`;
    if (this.multiprocess) reply += ';multiprocess+';
    if (this.target.memoryMap) reply += ';qXfer:memory-map:read+';
    if (this.target.reverse) reply += ';ReverseStep+;ReverseContinue+';
    return reply;
  }

  /** `qXfer:object:read:annex:offset,length` */
  private xfer(args: string): string | undefined {
    const parts = args.split(':');
    if (parts.length !== 4 || parts[1] !== 'read') return '';
    const [object, , annex, range] = parts as [string, string, string, string];
    let document: string | undefined;
    if (object === 'features') document = this.xml.get(annex);
    else if (object === 'threads' && annex === '') {
      // Built at offset 0 and kept while gdb pages through it, so the chunks agree.
      if (range.startsWith('0,') || this.threadXfer === undefined) this.threadXfer = threadListXml(this.threads(), this.multiprocess);
      document = this.threadXfer;
    } else if (object === 'memory-map' && this.target.memoryMap) {
      if (annex === '') document = memoryMapXml(this.target.memoryMap());
    } else if (object !== 'features' && object !== 'threads') return '';
    if (document === undefined) throw new PacketError('E00', `qXfer:${object}: no annex '${annex.slice(0, 40)}'`);
    const [o, l] = splitPair(range, ',', 'qXfer');
    const chunk = xferChunk(document, parseHexNumber(o, 'qXfer offset'), Math.min(parseHexNumber(l, 'qXfer length'), this.maxRead));
    this.send(this.encoder.binary(chunk.prefix, chunk.data));
    return undefined;
  }

  // --- monitor, detach, kill ---------------------------------------------------------------

  private monitor(command: string): string | undefined {
    const result = runMonitorCommand(command, this.target, this.physical);
    const finish = (r: MonitorResult) => {
      this.physical = r.physical;
      for (const packet of consolePackets(r.output, this.packetSize)) this.reply(packet);
    };
    if (!(result instanceof Promise)) {
      finish(result);
      return 'OK';
    }
    // A slow command: gdb waits for the reply with a timeout (2 s by default) that each console
    // packet restarts, so an empty one goes out every half second until the answer is ready.
    const keepAlive = setInterval(() => this.reply('O'), MONITOR_KEEPALIVE_MS);
    void result.then((r) => {
      clearInterval(keepAlive);
      finish(r);
      this.reply('OK');
    });
    return undefined;
  }

  private detach(): string {
    this.removeInserted();
    this.waitingForStop = false;
    if (this.target.halted) this.target.resume(new Map(), 'continue');
    return 'OK';
  }

  /** Ends the session; the target's kill policy (reset or stop the zone) decides what runs next. */
  private kill(reply: boolean): void {
    this.waitingForStop = false;
    this.removeInserted();
    this.target.kill();
    if (reply) this.send(this.encoder.text('OK'));
    this.ended = true;
    this.target.onStop(undefined);
    this.transport.end();
  }
}
