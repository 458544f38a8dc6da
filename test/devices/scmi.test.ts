/**
 * The SCMI platform against DEN0056's message formats, driven the way Linux's arm_scmi core does
 * through the SMC transport: shmem.c's layout (status cleared, flags, length = 4 + payload, header,
 * payload; the doorbell; the response's length, status word and return values read back), base.c's
 * discovery, clock.c's enumeration and rate calls and reset.c's resets. Built from Debian's RK3588
 * DTB the same way the board builds it; the boot is test/linux/rk3588-zone0.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { rk3588 } from '../../boards/rk3588/index.js';
import { buildBoard } from '../../src/board/board-builder.js';
import type { MmioDevice } from '../../src/machine/mmio-device.js';
import { ScmiSharedMemory } from '../../src/devices/firmware/scmi/shared-memory.js';
import { createScmiSmcFirmware, type ScmiFirmwareTables } from '../../src/devices/firmware/scmi/smc-firmware.js';
import { packHeader, unpackHeader } from '../../src/devices/firmware/scmi/message.js';
import type { ScmiResetProtocol } from '../../src/devices/firmware/scmi/reset-protocol.js';
import { rk3588ScmiFirmware } from '../../src/devices/soc/rk3588/scmi-firmware.js';
import { readFileSync } from 'node:fs';
import { fixture } from '../helpers/fixtures.js';

const SMC_ID = 0x8200_0010;
const BASE = 0x10;
const CLOCK = 0x14;
const RESET = 0x16;
const NOT_SUPPORTED = -1;
const INVALID_PARAMETERS = -2;
const NOT_FOUND = -4;
const PROTOCOL_ERROR = -10;

/** An OS agent on one channel: posts a command as shmem_tx_prepare does, rings, fetches as shmem_fetch_response does. */
class Agent {
  private token = 0;
  lastHeader = 0;
  constructor(
    readonly memory: MmioDevice,
    private readonly doorbell: (regs: BigUint64Array) => boolean,
  ) {}

  send(protocol: number, message: number, ...words: number[]): { status: number; words: number[]; bytes: Uint8Array } {
    const m = this.memory;
    expect(m.read(0x04, 4) & 1, 'channel free before sending').toBe(1);
    m.write(0x04, 4, 0); // busy, error cleared
    m.write(0x10, 4, 0); // polled completion: no interrupt
    m.write(0x14, 4, 4 + 4 * words.length);
    this.token = (this.token + 1) & 0x3ff;
    const header = packHeader({ messageId: message, type: 0, protocolId: protocol, token: this.token });
    m.write(0x18, 4, header);
    words.forEach((w, i) => m.write(0x1c + 4 * i, 4, w >>> 0));
    const regs = new BigUint64Array([BigInt(SMC_ID), 0n, 0n, 0n, 0n, 0n, 0n, 0n]);
    expect(this.doorbell(regs)).toBe(true);
    expect(regs[0]).toBe(0n);
    expect(m.read(0x04, 4) & 3, 'free, no error after the answer').toBe(1);
    this.lastHeader = m.read(0x18, 4);
    expect(this.lastHeader, 'the header (token included) comes back').toBe(header);
    const length = m.read(0x14, 4);
    const status = m.read(0x1c, 4) | 0;
    const bytes = new Uint8Array(Math.max(0, length - 8));
    for (let i = 0; i < bytes.length; i++) bytes[i] = m.read(0x20 + i, 1);
    const words32 = Array.from({ length: bytes.length >> 2 }, (_, i) => new DataView(bytes.buffer).getUint32(4 * i, true));
    return { status, words: words32, bytes };
  }
}

const name16 = (bytes: Uint8Array, at: number) => Buffer.from(bytes.subarray(at, at + 16)).toString('latin1').replace(/\0.*$/s, '');

function agentFor(tables: ScmiFirmwareTables = rk3588ScmiFirmware, size = 0x100): { agent: Agent; fw: ReturnType<typeof createScmiSmcFirmware> } {
  const memory = new ScmiSharedMemory(size);
  const smcId = new Uint8Array([0x82, 0, 0, 0x10]);
  const fw = createScmiSmcFirmware(
    {
      path: '/firmware/scmi',
      compatible: ['arm,scmi-smc'],
      windows: [],
      irqs: [],
      property: (n) => (n === 'arm,smc-id' ? smcId : undefined),
      linkedWindows: (n) => (n === 'shmem' ? [{ base: 0x10f000, size }] : []),
    },
    (a) => (a === 0x10f000 ? memory : undefined),
    tables,
  );
  return { agent: new Agent(memory, (r) => fw.call(r)), fw };
}

describe('SCMI platform (SMC transport, shared memory)', () => {
  it('packs and unpacks the message header: id 7:0, type 9:8, protocol 17:10, token 27:18', () => {
    const word = packHeader({ messageId: 0x06, type: 0, protocolId: 0x14, token: 0x3ff });
    expect(word).toBe(0x06 | (0x14 << 10) | (0x3ff << 18));
    expect(unpackHeader(word)).toEqual({ messageId: 6, type: 0, protocolId: 0x14, token: 0x3ff });
  });

  it('base protocol: version 2.0, attributes, vendor, implementation, protocol list with skip, agents, message attributes', () => {
    const { agent } = agentFor();
    expect(agent.send(BASE, 0)).toMatchObject({ status: 0, words: [0x2_0000] });
    // Two protocols besides base (bits 7:0), one agent (15:8).
    expect(agent.send(BASE, 1)).toMatchObject({ status: 0, words: [2 | (1 << 8)] });
    expect(name16(agent.send(BASE, 3).bytes, 0)).toBe('rockchip');
    expect(name16(agent.send(BASE, 4).bytes, 0)).toBe('rk3588');
    expect(agent.send(BASE, 5)).toMatchObject({ status: 0, words: [0x1_0000] });
    // DISCOVER_LIST_PROTOCOLS: a count, then the ids as bytes padded to a word; skip past all is 0, beyond is an error.
    const list = agent.send(BASE, 6, 0);
    expect(list.status).toBe(0);
    expect(list.words[0]).toBe(2);
    expect([...list.bytes.subarray(4)]).toEqual([CLOCK, RESET, 0, 0]);
    expect(agent.send(BASE, 6, 1).bytes.subarray(4, 5)[0]).toBe(RESET);
    expect(agent.send(BASE, 6, 2).words).toEqual([0]);
    expect(agent.send(BASE, 6, 3).status).toBe(INVALID_PARAMETERS);
    // DISCOVER_AGENT (v2.0: id, then the name): 0 is the platform, 0xffffffff the caller.
    const platform = agent.send(BASE, 7, 0);
    expect([platform.words[0], name16(platform.bytes, 4)]).toEqual([0, 'platform']);
    const self = agent.send(BASE, 7, 0xffff_ffff);
    expect([self.words[0], name16(self.bytes, 4)]).toEqual([1, 'OSPM']);
    expect(agent.send(BASE, 7, 5).status).toBe(NOT_FOUND);
    // PROTOCOL_MESSAGE_ATTRIBUTES: implemented messages have attributes 0, others are not found.
    expect(agent.send(BASE, 2, 6)).toMatchObject({ status: 0, words: [0] });
    expect(agent.send(BASE, 2, 0x10).status).toBe(NOT_FOUND);
    expect(agent.send(BASE, 0x30).status).toBe(NOT_SUPPORTED);
    expect(agent.send(BASE, 7).status).toBe(PROTOCOL_ERROR); // no agent id
  });

  it('clock protocol: count, attributes with 16-byte names, discrete rate lists, rate get/set with rounding, enable/disable', () => {
    const { agent, fw } = agentFor();
    expect(agent.send(CLOCK, 0).words).toEqual([0x2_0000]);
    const count = agent.send(CLOCK, 1).words[0]! & 0xffff;
    expect(count).toBe(24); // SCMI_CLK_CPUL .. SCMI_HCLK_SD
    // Names are what Linux registers the clocks by: distinct within SCMI's 15 characters.
    const names = Array.from({ length: count }, (_, id) => {
      const a = agent.send(CLOCK, 3, id);
      expect(a.status).toBe(0);
      expect(a.words[0]! & 1, `clock ${id} runs at boot`).toBe(1);
      expect(a.bytes.length).toBe(4 + 16 + 4); // attributes, name, enable latency
      return name16(a.bytes, 4);
    });
    expect(new Set(names).size).toBe(count);
    expect(names[5]).toBe('scmi_clk_gpu');
    expect(names[22]).toBe('scmi_spll');

    // CLOCK_DESCRIBE_RATES: flags = returned 11:0, list format (bit 12 clear), remaining 31:16; u64 rates.
    const gpu = agent.send(CLOCK, 4, 5, 0);
    expect(gpu.words[0]).toBe(9);
    const rates = Array.from({ length: 9 }, (_, i) => gpu.words[1 + 2 * i]! + gpu.words[2 + 2 * i]! * 2 ** 32);
    expect(rates).toEqual([200, 300, 400, 500, 600, 700, 800, 900, 1000].map((m) => m * 1e6));
    expect(agent.send(CLOCK, 4, 5, 10).status).toBe(-5); // OUT_OF_RANGE

    const rateOf = (id: number) => {
      const w = agent.send(CLOCK, 6, id).words;
      return w[0]! + w[1]! * 2 ** 32;
    };
    expect(rateOf(5)).toBe(200e6);
    expect(rateOf(22)).toBe(702e6);
    // CLOCK_RATE_SET: flags, id, rate low, rate high. Default rounds down, bit 2 up, bit 3 to the nearest.
    expect(agent.send(CLOCK, 5, 0, 5, 600e6, 0).status).toBe(0);
    expect(rateOf(5)).toBe(600e6);
    agent.send(CLOCK, 5, 0, 5, 650e6, 0);
    expect(rateOf(5)).toBe(600e6);
    agent.send(CLOCK, 5, 4, 5, 650e6, 0);
    expect(rateOf(5)).toBe(700e6);
    agent.send(CLOCK, 5, 8, 5, 880e6, 0);
    expect(rateOf(5)).toBe(900e6);
    // A rate above 4 GHz needs the high word: clamped to the top of the list.
    agent.send(CLOCK, 5, 0, 2, 0, 1);
    expect(rateOf(2)).toBe(2400e6);
    expect(agent.send(CLOCK, 5, 1, 5, 600e6, 0).status).toBe(NOT_SUPPORTED); // asynchronous: none offered

    // CLOCK_CONFIG_SET (v2.0): bit 0 runs the clock; other bits are reserved.
    expect(agent.send(CLOCK, 7, 5, 0).status).toBe(0);
    expect(agent.send(CLOCK, 3, 5).words[0]! & 1).toBe(0);
    expect(fw.platform.protocol(CLOCK)).toBeDefined();
    agent.send(CLOCK, 7, 5, 1);
    expect(agent.send(CLOCK, 3, 5).words[0]! & 1).toBe(1);
    expect(agent.send(CLOCK, 7, 5, 0x10).status).toBe(INVALID_PARAMETERS);
    expect(agent.send(CLOCK, 3, 99).status).toBe(NOT_FOUND);
    expect(agent.send(CLOCK, 5, 0, 5).status).toBe(PROTOCOL_ERROR); // no rate words
    expect(agent.send(CLOCK, 8, 0).status).toBe(NOT_SUPPORTED); // CLOCK_NAME_GET is 3.x

    fw.reset();
    expect(rateOf(5)).toBe(200e6);
  });

  it('describes a rate list longer than the channel in pieces (remaining count), as the agent iterates', () => {
    // A 0x40-byte area carries 36 payload bytes: status, flags and 3 rates per answer.
    const { agent } = agentFor(rk3588ScmiFirmware, 0x40);
    const got: number[] = [];
    for (let index = 0; ; ) {
      const a = agent.send(CLOCK, 4, 2, index);
      expect(a.status).toBe(0);
      const returned = a.words[0]! & 0xfff;
      for (let i = 0; i < returned; i++) got.push(a.words[1 + 2 * i]! + a.words[2 + 2 * i]! * 2 ** 32);
      index += returned;
      if (a.words[0]! >>> 16 === 0) break;
      expect(returned).toBe(3);
    }
    expect(got.length).toBe(14);
    expect(got.at(-1)).toBe(2400e6);
  });

  it('reset protocol: domains with names, explicit assert/de-assert and autonomous reset, no asynchronous ones', () => {
    const { agent, fw } = agentFor();
    expect(agent.send(RESET, 0).words).toEqual([0x1_0000]);
    expect(agent.send(RESET, 1).words).toEqual([48]);
    // RESET_DOMAIN_ATTRIBUTES: attributes, latency, name.
    const d = agent.send(RESET, 3, 15);
    expect(d.words.slice(0, 2)).toEqual([0, 0xffff_ffff]);
    expect(name16(d.bytes, 8)).toBe('secure_srst_15');
    const reset = fw.platform.protocol(RESET) as ScmiResetProtocol;
    expect(agent.send(RESET, 4, 15, 2, 0).status).toBe(0); // explicit assert
    expect(reset.isAsserted(15)).toBe(true);
    agent.send(RESET, 4, 15, 0, 0); // de-assert
    expect(reset.isAsserted(15)).toBe(false);
    agent.send(RESET, 4, 15, 1, 0); // autonomous pulse ends released
    expect(reset.isAsserted(15)).toBe(false);
    expect(agent.send(RESET, 4, 15, 4, 0).status).toBe(NOT_SUPPORTED);
    expect(agent.send(RESET, 4, 48, 0, 0).status).toBe(NOT_FOUND);
    expect(agent.send(RESET, 5, 0, 1).status).toBe(NOT_SUPPORTED); // RESET_NOTIFY
  });

  it('transport: other function ids are not its own; an unknown protocol, a malformed message and a missing channel are answered, not thrown', () => {
    const { agent, fw } = agentFor();
    expect(fw.call(new BigUint64Array([0x8400_0000n, 0n, 0n, 0n]))).toBe(false);
    expect(agent.send(0x15, 0).status).toBe(NOT_SUPPORTED); // sensors are not offered
    // A length past the channel: the error bit, no response.
    const m = agent.memory;
    m.write(0x04, 4, 0);
    m.write(0x14, 4, 0x1000);
    const regs = new BigUint64Array([BigInt(SMC_ID), 0n, 0n, 0n]);
    expect(fw.call(regs)).toBe(true);
    expect(m.read(0x04, 4)).toBe(3);
    // A doorbell with nothing posted (channel free) changes nothing.
    m.write(0x14, 4, 0x99);
    fw.call(regs);
    expect(m.read(0x14, 4)).toBe(0x99);
    // Without the shared memory's model the doorbell answers SMCCC NOT_SUPPORTED.
    const orphan = createScmiSmcFirmware(
      { path: '/firmware/scmi', compatible: ['arm,scmi-smc'], windows: [], irqs: [], property: () => new Uint8Array([0x82, 0, 0, 0x10]), linkedWindows: () => [{ base: 0x10f000, size: 0x100 }] },
      () => undefined,
      rk3588ScmiFirmware,
    );
    regs[0] = BigInt(SMC_ID);
    const lines: string[] = [];
    const quiet = createScmiSmcFirmware(
      { path: '/firmware/scmi', compatible: ['arm,scmi-smc'], windows: [], irqs: [], property: () => new Uint8Array([0x82, 0, 0, 0x10]), linkedWindows: () => [{ base: 0x10f000, size: 0x100 }] },
      () => undefined,
      rk3588ScmiFirmware,
      (l) => lines.push(l),
    );
    for (let i = 0; i < 100; i++) {
      regs[0] = BigInt(SMC_ID);
      quiet.call(regs);
    }
    expect(lines.length, 'bounded').toBe(16);
    expect(lines[0]).toMatch(/^scmi-smc: doorbell rung, but no model stands at its shared memory/);
    regs[0] = BigInt(SMC_ID);
    expect(orphan.call(regs)).toBe(true);
    expect(regs[0]).toBe(0xffff_ffff_ffff_ffffn);
    expect(() => createScmiSmcFirmware({ path: '/firmware/scmi', compatible: [], windows: [], irqs: [] }, () => undefined, rk3588ScmiFirmware)).toThrow(/arm,smc-id/);
  });

  it("the RK3588 board builds it from Debian's DTB: the shared memory below RAM is a model, the SMC reaches the platform", () => {
    const build = buildBoard(rk3588, { dtb: readFileSync(fixture('dtbs-arm64-6.12/rockchip/rk3588-rock-5b.dtb')) });
    const shmem = build.machine.deviceAt(0x10f000);
    expect(shmem?.modelName).toBe('scmi-shmem');
    expect(build.machine.smcServices.map((s) => s.name)).toContain('scmi-smc');
    const agent = new Agent(shmem!.model!, (r) => build.machine.smcCall(r));
    expect(name16(agent.send(CLOCK, 3, 0).bytes, 4)).toBe('scmi_clk_cpul');
  });
});
