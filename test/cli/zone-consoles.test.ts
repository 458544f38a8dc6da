import { describe, expect, it } from 'vitest';
import { ZoneConsoles } from '../../src/cli/zone-consoles.js';

const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
const bytes = (s: string) => new TextEncoder().encode(s);

describe('ZoneConsoles: every zone on one terminal', () => {
  it('prefixes each line with its zone, ends a line another zone interrupts, and shows prompts at once', () => {
    let out = '';
    const c = new ZoneConsoles((t) => (out += t));
    c.nameZone(0, 'zone0');
    c.nameZone(1, 'zoneR');
    c.write(0, bytes('hello\r\nwor'));
    c.write(1, bytes('beat 1\n'));
    c.write(0, bytes('ld\n=> '));
    expect(plain(out)).toBe('zone0        │ hello\nzone0        │ wor\nzoneR        │ beat 1\nzone0        │ ld\nzone0        │ => ');
    c.flush();
    expect(out.endsWith('=> \n')).toBe(true);
  });

  it('holds output until released, and routes typing to the UART the zone owns', () => {
    let out = '';
    const c = new ZoneConsoles((t) => (out += t), true);
    const uart = c.uart('/soc/serial@10000000');
    c.assignUart('/soc/serial@10000000', 0);
    uart.write(0x41);
    uart.write(0x0a);
    c.log('zone 1 started');
    expect(out).toBe('');
    c.release();
    expect(plain(out)).toBe('zone0        │ A\nhvisor       │ zone 1 started\n');
    expect(c.type(0, bytes('x'))).toBe(true);
    expect(uart.read()).toBe(0x78);
    expect(c.type(1, bytes('y'))).toBe(false); // zone 1 owns no UART
  });
});
