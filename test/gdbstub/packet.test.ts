import { describe, expect, it } from 'vitest';
import { PacketDecoder, PacketEncoder, type PacketEvents } from '../../gdbstub/packet.js';
import { checksum, decodeBody, frame } from '../helpers/rsp-client.js';

function harness(maxPacket = 64) {
  const packets: string[] = [];
  const acks: string[] = [];
  const events: string[] = [];
  const sink: PacketEvents = {
    packet: (p) => packets.push(p),
    interrupt: () => events.push('interrupt'),
    nak: () => events.push('nak'),
    oversized: (n) => events.push(`oversized ${n}`),
  };
  const decoder = new PacketDecoder(sink, (a) => acks.push(a), maxPacket);
  const feed = (text: string) => decoder.feed(Buffer.from(text, 'latin1'));
  return { decoder, feed, packets, acks, events };
}

describe('PacketDecoder', () => {
  it('accepts a framed packet, acks it, and tolerates leading acks and noise', () => {
    const h = harness();
    h.feed('++xyz' + frame('qSupported:multiprocess+'));
    expect(h.packets).toEqual(['qSupported:multiprocess+']);
    expect(h.acks).toEqual(['+']);
  });

  it('naks a bad checksum, drops that packet and stays usable', () => {
    const h = harness();
    h.feed('$g#00');
    h.feed('$m0,4#zz'); // checksum digits that are not hex
    h.feed(frame('g'));
    expect(h.packets).toEqual(['g']);
    expect(h.acks).toEqual(['-', '-', '+']);
    expect(h.decoder.checksumErrors).toBe(2);
  });

  it('reassembles a packet fed one byte at a time', () => {
    const h = harness();
    for (const c of frame('vCont;s:p1.1;c:p1.-1')) h.feed(c);
    expect(h.packets).toEqual(['vCont;s:p1.1;c:p1.-1']);
  });

  it('undoes } escapes (binary X data) with the checksum over the escaped bytes', () => {
    const h = harness();
    const data = 'X80000000,4:' + String.fromCharCode(0x23, 0x24, 0x7d, 0x2a);
    const framed = frame(data);
    expect(framed).toContain('}\x03}\x04}]}\x0a');
    h.feed(framed);
    expect(h.packets).toEqual([data]);
  });

  it('reports Ctrl-C between packets but treats 0x03 inside a packet as data', () => {
    const h = harness();
    h.feed('\x03');
    h.feed(frame('X0,1:\x03'));
    expect(h.events).toEqual(['interrupt']);
    expect(h.packets).toEqual(['X0,1:\x03']);
  });

  it("passes '-' on as a retransmission request", () => {
    const h = harness();
    h.feed('-');
    expect(h.events).toEqual(['nak']);
  });

  it('acks and drops an oversized packet without overrunning its buffer, then continues', () => {
    const h = harness(16);
    h.feed(frame('M0,20:' + '00'.repeat(32)));
    h.feed(frame('g'));
    expect(h.events).toEqual(['oversized 70']);
    expect(h.packets).toEqual(['g']);
    expect(h.acks).toEqual(['+', '+']);
  });

  it('restarts on a $ inside a truncated packet', () => {
    const h = harness();
    h.feed('$m0,4' + frame('g'));
    expect(h.packets).toEqual(['g']);
  });

  it('writes no acks in no-ack mode', () => {
    const h = harness();
    h.decoder.ackMode = false;
    h.feed(frame('g') + '$g#00');
    expect(h.acks).toEqual([]);
    expect(h.packets).toEqual(['g']);
  });
});

describe('PacketEncoder', () => {
  const body = (framed: Buffer) => {
    const text = framed.toString('latin1');
    expect(text[0]).toBe('$');
    const hash = text.lastIndexOf('#');
    const b = text.slice(1, hash);
    expect(parseInt(text.slice(hash + 1), 16)).toBe(checksum(b));
    return b;
  };

  it('run-length encodes text replies the way the GDB manual shows', () => {
    const encoder = new PacketEncoder(8);
    expect(body(encoder.text('0000'))).toBe('0* ');
    expect(body(encoder.text('000'))).toBe('000');
    expect(body(encoder.text('OK'))).toBe('OK');
  });

  it("never uses '#' or '$' as a run count and round-trips every run length", () => {
    const encoder = new PacketEncoder(8);
    for (let n = 1; n <= 300; n++) {
      const payload = 'T05' + 'a'.repeat(n) + '0'.repeat(n % 37) + 'x';
      const b = body(encoder.text(payload));
      for (let i = 0; i < b.length; i++) if (b[i] === '*') expect(['#', '$']).not.toContain(b[i + 1]);
      expect(b).not.toMatch(/[#$]/);
      expect(decodeBody(b)).toBe(payload);
    }
  });

  it('escapes $ # } * in binary replies and keeps other bytes as they are', () => {
    const encoder = new PacketEncoder(8);
    const data = new Uint8Array(256).map((_, i) => i);
    const b = body(encoder.binary('l', data));
    expect(b).not.toMatch(/[#$*]/);
    expect(decodeBody(b)).toBe('l' + Buffer.from(data).toString('latin1'));
  });
});
