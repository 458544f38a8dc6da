import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GdbServer } from '../../gdbstub/server.js';
import { RspClient, bigintToLittleEndianHex, littleEndianHexToBigint } from '../helpers/rsp-client.js';
import { FakeZone, RAM_BASE, VIRTUAL_ALIAS } from './fake-zone.js';
import { buildGuestProgram, type GuestProgram } from './guest-program.js';
import { PC } from './riscv64-description.js';

/** Polls until `condition` holds (events cross a real socket); fails after 5 s. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !condition(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(condition()).toBe(true);
}

// The stub over a real socket, driven packet by packet: what gdb does not exercise on its own.
const program: GuestProgram = buildGuestProgram();
const sym = (name: string) => program.symbols.get(name)!;

describe('GdbSession over TCP', () => {
  let zone: FakeZone;
  let server: GdbServer;
  let client: RspClient;
  const log: string[] = [];

  beforeEach(async () => {
    zone = new FakeZone('zone0', program.image, [RAM_BASE, RAM_BASE]);
    server = new GdbServer({ target: zone, port: 0, name: 'zone0', log: (l) => log.push(l) });
    await server.listen();
    client = await RspClient.connect(server.port);
    await client.request('qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+');
  });
  afterEach(async () => {
    await client.close();
    await server.close();
    zone.dispose();
  });

  it('advertises what it implements', async () => {
    const c2 = client;
    expect(await c2.request('qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+')).toBe(
      'PacketSize=4000;QStartNoAckMode+;qXfer:features:read+;qXfer:threads:read+;vContSupported+;swbreak+;hwbreak+;multiprocess+',
    );
    expect(await client.request('vCont?')).toBe('vCont;c;C;s;S;t');
    expect(await client.request('vMustReplyEmpty')).toBe('');
    expect(await client.request('qTStatus')).toBe('');
    expect(await client.request('qAttached:1')).toBe('1');
    expect(await client.request('?')).toBe(`T05thread:p01.01;2:${'0'.repeat(16)};20:${bigintToLittleEndianHex(RAM_BASE, 8)};`);
  });

  it('offers reverse execution when the target has it: bs and bc report through onStop, the start of history as replaylog', async () => {
    const calls: string[] = [];
    let undone = 0;
    const reversible = Object.assign(zone, {
      reverse(kind: 'step' | 'continue', thread: number) {
        calls.push(`${kind} ${thread}`);
        const listener = (zone as unknown as { listener: ((e: unknown) => void) | undefined }).listener;
        if (kind === 'step' && undone++ === 0) listener?.({ kind: 'step', thread });
        else listener?.({ kind: 'history-start', thread });
      },
    });
    const s2 = new GdbServer({ target: reversible, port: 0, name: 'zone0' });
    await s2.listen();
    const c2 = await RspClient.connect(s2.port);
    try {
      expect(await c2.request('qSupported:swbreak+')).toMatch(/;ReverseStep\+;ReverseContinue\+$/);
      expect(await c2.request('bs')).toMatch(/^T05thread:01;/);
      expect(await c2.request('bs')).toMatch(/^T05thread:01;replaylog:begin;/);
      expect(await c2.request('bc')).toMatch(/^T05thread:01;replaylog:begin;/);
      expect(await c2.request('bx')).toBe('');
      expect(calls).toEqual(['step 1', 'step 1', 'continue 1']);
    } finally {
      await c2.close();
      await s2.close();
    }
  });

  it('answers unknown and malformed packets with empty or E replies and stays usable', async () => {
    expect(await client.request('bs')).toBe('');
    expect(await client.request('Xyz')).toBe('E22');
    expect(await client.request('mzz,4')).toBe('E22');
    expect(await client.request('m80000000')).toBe('E22');
    expect(await client.request('M80000000,4:123')).toBe('E22');
    expect(await client.request('p1000')).toBe('E14');
    expect(await client.request('P20=12')).toBe('E22');
    expect(await client.request('Z9,0,4')).toBe('');
    expect(await client.request('Hg99')).toBe('E22');
    expect(await client.request('Tp1.9')).toBe('E22');
    expect(await client.request('Tp1.2')).toBe('OK');
    expect(await client.request('vCont;r0,4:p1.1')).toBe('E22');
    expect(await client.request('vCont;s:p1.7')).toBe('E22');
    expect(await client.request('qXfer:features:read:nosuch.xml:0,100')).toBe('E00');
    expect(await client.request('qXfer:features:read:target.xml:zz,100')).toBe('E22');
    expect(await client.request('qRcmd,zz')).toBe('E22');
    expect(await client.request('\u00ff\u0001')).toBe('');
    // An oversized packet is acked, answered with an error, and the connection stays up.
    expect(await client.request('M80000000,4000:' + '00'.repeat(0x4000))).toBe('E22');
    client.sendRaw('$g#00');
    expect(await client.request('m80000000,4')).toBe('97050000');
    expect(client.acks).toContain('+');
    expect(log.some((l) => l.includes("m address: 'zz'"))).toBe(true);
  });

  it('serves the target description in chunks that reassemble to the whole file', async () => {
    const target = await client.request('qXfer:features:read:target.xml:0,fff');
    expect(target).toMatch(/^l<\?xml.*<architecture>riscv:rv64<\/architecture>.*riscv-csr\.xml.*<\/target>$/);
    let csr = '';
    for (let offset = 0; ; offset += 0x40) {
      const reply = await client.request(`qXfer:features:read:riscv-csr.xml:${offset.toString(16)},40`);
      csr += reply.slice(1);
      if (reply[0] === 'l') break;
      expect(reply[0]).toBe('m');
    }
    expect(csr).toMatch(/^<\?xml.*<feature name="org\.gnu\.gdb\.riscv\.csr">.*<reg name="satp" bitsize="64" regnum="450"/);
    expect(await client.request('qXfer:features:read:riscv-csr.xml:10000,40')).toBe('l');
  });

  it('reads and writes registers by g/G and p/P on the selected thread', async () => {
    zone.vcpus[1]!.r[5] = 0x1122334455667788n;
    expect(await client.request('Hgp1.2')).toBe('OK');
    const g = await client.request('g');
    expect(g.length).toBe(33 * 16);
    expect(littleEndianHexToBigint(g.slice(5 * 16, 6 * 16))).toBe(0x1122334455667788n);
    expect(littleEndianHexToBigint(g.slice(10 * 16, 11 * 16))).toBe(1n); // a0 = hart id
    const edited = g.slice(0, 6 * 16) + bigintToLittleEndianHex(0xabcdn, 8) + g.slice(7 * 16);
    expect(await client.request('G' + edited)).toBe('OK');
    expect(zone.vcpus[1]!.r[6]).toBe(0xabcdn);
    expect(await client.request('G' + edited + '00')).toBe('E22');
    expect(await client.request(`P142=${bigintToLittleEndianHex(0xdeadn, 8)}`)).toBe('OK'); // regno 0x142 = 66 + 0x100: sstatus
    expect(await client.request('p43')).toBe(bigintToLittleEndianHex(0n, 4)); // fflags is 32-bit
    expect(zone.vcpus[0]!.r[0x142]).toBe(0n);
    expect(zone.vcpus[1]!.r[0x142]).toBe(0xdeadn);
  });

  it('reads a prefix across the end of RAM, maps guest-virtual vs guest-physical, writes M and X', async () => {
    const end = RAM_BASE + BigInt(zone.ram.length);
    expect((await client.request(`m${(end - 4n).toString(16)},10`)).length).toBe(8);
    expect(await client.request(`m${end.toString(16)},10`)).toBe('E14');
    expect(await client.request(`m${VIRTUAL_ALIAS.toString(16)},4`)).toBe('97050000');
    expect(await client.request('Qqemu.PhyMemMode:1')).toBe('OK');
    expect(await client.request(`m${VIRTUAL_ALIAS.toString(16)},4`)).toBe('E14');
    expect((await client.monitor('phys off')).output).toMatch(/translation/);
    expect(await client.request(`m${VIRTUAL_ALIAS.toString(16)},4`)).toBe('97050000');
    const counters = sym('counters');
    expect(await client.request(`M${counters.toString(16)},4:01020304`)).toBe('OK');
    const binary = String.fromCharCode(0x23, 0x24, 0x7d, 0x2a, 0x03, 0x00);
    expect(await client.request(`X${(counters + 4n).toString(16)},6:${binary}`)).toBe('OK');
    expect(await client.request(`X${counters.toString(16)},0:`)).toBe('OK');
    const off = Number(counters - RAM_BASE);
    expect([...zone.ram.subarray(off, off + 10)]).toEqual([1, 2, 3, 4, 0x23, 0x24, 0x7d, 0x2a, 3, 0]);
    expect(await client.request(`M${end.toString(16)},1:00`)).toBe('E14');
  });

  it('steps one thread with vCont while the other stays put, and reports the stepping thread', async () => {
    expect(await client.request('vCont;s:p1.2;c:p1.-1')).toBe(`T05thread:p01.02;2:${'0'.repeat(16)};20:${bigintToLittleEndianHex(RAM_BASE + 4n, 8)};`);
    expect(zone.vcpus[0]!.pc).toBe(RAM_BASE);
    expect(await client.request('qC')).toBe('QCp01.02');
    expect(await client.request('s')).toMatch(/^T05thread:p01.02;/);
    expect(zone.vcpus[1]!.pc).toBe(RAM_BASE + 8n);
  });

  it('stops on breakpoints and watchpoints with the reasons negotiated, before the access', async () => {
    expect(await client.request(`Z0,${sym('loop').toString(16)},4`)).toBe('OK');
    expect(await client.request('vCont;c')).toMatch(/^T05thread:p01.0[12];swbreak:;/);
    expect(await client.request(`z0,${sym('loop').toString(16)},4`)).toBe('OK');
    expect(await client.request(`Z1,${sym('bump').toString(16)},4`)).toBe('OK');
    expect(await client.request('c')).toMatch(/^T05thread:p01.0[12];hwbreak:;/);
    expect(await client.request(`z1,${sym('bump').toString(16)},4`)).toBe('OK');
    const counters = sym('counters');
    expect(await client.request(`Z2,${counters.toString(16)},8`)).toBe('OK');
    const before = zone.ram[Number(counters - RAM_BASE)];
    expect(await client.request('vCont;c:p1.1')).toBe(`T05thread:p01.01;watch:${counters.toString(16)};2:${'0'.repeat(16)};20:${bigintToLittleEndianHex(sym('store'), 8)};`);
    expect(zone.ram[Number(counters - RAM_BASE)]).toBe(before); // not yet written
    expect(await client.request(`z2,${counters.toString(16)},8`)).toBe('OK');
    expect(await client.request(`Z3,${(counters + 8n).toString(16)},8`)).toBe('OK');
    expect(await client.request('vCont;c:p1.1')).toMatch(new RegExp(`^T05thread:p01.01;rwatch:${(counters + 8n).toString(16)};`));
    expect(await client.request(`Z4,${(counters + 8n).toString(16)},8`)).toBe('OK');
    expect(await client.request(`z3,${(counters + 8n).toString(16)},8`)).toBe('OK');
    expect(await client.request('vCont;c:p1.1')).toMatch(/^T05thread:p01.01;awatch:/);
    expect(zone.watchpoints.length).toBe(1);
  });

  it('halts a running zone on Ctrl-C with SIGINT and reports the exit of a powered-off zone', async () => {
    client.send('vCont;c');
    await vi.waitFor(() => expect(zone.halted === false && zone.retired > 0).toBe(true), { timeout: 20_000, interval: 5 });
    client.interrupt();
    expect(await client.next()).toMatch(/^T02thread:p01.01;/);
    expect(zone.halted).toBe(true);
    const retired = zone.retired;
    await new Promise((r) => setTimeout(r, 20));
    expect(zone.retired).toBe(retired); // halted means halted
    expect(await client.request(`P20=${bigintToLittleEndianHex(sym('exit_now'), 8)}`)).toBe('OK');
    expect(await client.request('vCont;c:p1.1')).toBe('W07;process:1');
  });

  it('runs monitor commands: its own help, the target commands, target errors as text', async () => {
    const help = await client.monitor('help');
    expect(help.reply).toBe('OK');
    expect(help.output).toMatch(/^help .*\nphys on\|off .*\nzone .*\nregs /s);
    expect((await client.monitor('zone')).output).toBe('zone0: 2 vCPUs, RAM 80000000+10000\n');
    expect((await client.monitor('fail')).output).toMatch(/^error: the fake zone was asked to fail/);
    // An output longer than one packet arrives as several O packets.
    const long = await client.monitor('long');
    expect(long.output).toBe('0123456789'.repeat(3000) + '\n');
    expect(client.consoleOutput.length).toBe(4);
  });

  it('switches to no-ack mode on request', async () => {
    expect(await client.startNoAck()).toBe(true);
    const acks = client.acks.length;
    expect(await client.request('m80000000,4')).toBe('97050000');
    expect(client.acks.length).toBe(acks);
  });

  it('lists threads by qfThreadInfo, qXfer:threads and qThreadExtraInfo', async () => {
    expect(await client.request('qfThreadInfo')).toBe('mp01.01,p01.02');
    expect(await client.request('qsThreadInfo')).toBe('l');
    expect(await client.request('qXfer:threads:read::0,1000')).toBe(
      'l<?xml version="1.0"?><threads><thread id="p01.01" core="0" name="zone0/vcpu0">S-mode, halted</thread>' +
        '<thread id="p01.02" core="1" name="zone0/vcpu1">S-mode, halted</thread></threads>',
    );
    expect(Buffer.from(await client.request('qThreadExtraInfo,p1.2'), 'hex').toString()).toBe('zone0/vcpu1, S-mode, halted');
  });

  it('refuses a second client clearly, and serves the next one after the first leaves', async () => {
    const second = await RspClient.connect(server.port);
    expect(await second.request('qSupported')).toMatch(/^E\.zone0 already has a debugger attached/);
    await second.close();
    expect(await client.request(`Z0,${sym('loop').toString(16)},4`)).toBe('OK');
    await client.close();
    await waitFor(() => !server.attached);
    // Disconnecting removed the breakpoint and let the zone run on.
    expect(zone.breakpoints.size).toBe(0);
    expect(zone.halted).toBe(false);
    client = await RspClient.connect(server.port);
    expect(await client.request('?')).toMatch(/^T05thread:01;/);
    expect(zone.halted).toBe(true);
  });

  it('detaches (breakpoints gone, zone running) and kills only the zone (reset, server still listening)', async () => {
    expect(await client.request(`Z0,${sym('loop').toString(16)},4`)).toBe('OK');
    expect(await client.request('D;1')).toBe('OK');
    expect(zone.breakpoints.size).toBe(0);
    expect(zone.halted).toBe(false);
    await client.close();
    client = await RspClient.connect(server.port);
    expect(await client.request('?')).toMatch(/^T05/);
    expect(zone.vcpus[0]!.pc).not.toBe(RAM_BASE);
    expect(await client.request('vKill;1')).toBe('OK');
    await waitFor(() => client.isClosed);
    expect(zone.kills).toBe(1);
    expect(zone.vcpus[0]!.pc).toBe(RAM_BASE);
    client = await RspClient.connect(server.port);
    expect(await client.readRegister(PC)).toBe(RAM_BASE);
  });
});
