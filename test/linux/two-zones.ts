/**
 * Two Linux zones started together by `launch()`, as the two-zone tests run them: zone0's console is
 * its UART (launch's output), zone1's only console is a virtio-console on TCP; each /init brings up
 * eth0 (a virtio-net NIC on the board's switch) and starts a shell. Both consoles are also written
 * to files in the test's scratch folder, for a look after a failure.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { launch, type Instance, type LaunchOptions } from '../../src/cli/launch.js';
import { GuestConsole } from '../helpers/guest-console.js';
import { waitForLinkUp } from '../helpers/linux-initramfs.js';
import { connectVirtioConsole, type SocketGuestConsole } from '../virtio/socket-guest-console.js';

/** The end of an /init: eth0 at `address`/24 and up, NET-READY, then a shell with the prompt `<prompt># `. */
export function netShell(address: string, prompt: string): string {
  return `ip link set lo up
ip addr add ${address}/24 dev eth0
ip link set eth0 up
${waitForLinkUp('eth0')}
export PS1='${prompt}# '
echo NET-READY
exec setsid cttyhack sh
`;
}

export interface TwoZones {
  readonly instance: Instance;
  /** zone0's UART console (typed on through launch's consoles). */
  readonly console0: GuestConsole;
  /** zone1's virtio-console. */
  readonly hvc1: SocketGuestConsole;
}

export interface TwoZoneRun {
  /** launch()'s options but its output and log. */
  readonly launch: Omit<LaunchOptions, 'output' | 'log'>;
  /** zone0's name in its config (launch puts it before each line of zone0's output). */
  readonly zone0Name: string;
  /** Guest-physical base of zone1's virtio-console (served on TCP). */
  readonly zone1Console: number;
  /** The scratch folder the console logs go to. */
  readonly dir: string;
  /** How long each shell may take to come up. */
  readonly bootMs: number;
}

/** Launches the run, connects to zone1's virtio-console and waits for both shells; a run that does not get there is closed before the error is thrown. */
export async function startTwoZones(run: TwoZoneRun): Promise<TwoZones> {
  const { launch: options, dir, bootMs } = run;
  let typeOn: (bytes: Uint8Array) => void = () => {};
  const console0 = new GuestConsole(run.zone0Name, (b) => typeOn(b));
  const started = Date.now();
  const instance = await launch({
    ...options,
    output: (text) => {
      console0.append(text);
      appendFileSync(join(dir, 'zone0-console.log'), text);
    },
    log: () => {},
  });
  let hvc1: SocketGuestConsole | undefined;
  try {
    typeOn = (b) => instance.consoles.type(0, b);
    hvc1 = await connectVirtioConsole(instance.hypervisor.zone(1)!, run.zone1Console, 'zone1');
    hvc1.socket.on('data', (text: string) => appendFileSync(join(dir, 'zone1-console.log'), text));
    await console0.waitFor(/NET-READY[\s\S]*zone0# $/, 'zone0\'s shell', bootMs);
    await hvc1.console.waitFor(/NET-READY[\s\S]*zone1# $/, 'zone1\'s shell on its virtio-console', bootMs);
  } catch (e) {
    hvc1?.socket.destroy();
    await instance.close();
    throw e;
  }
  const retired = (id: number) => instance.hypervisor.zone(id)!.cpus.reduce((n, c) => n + c.retired, 0);
  console.log(`${options.board}: both zones' shells after ${(Date.now() - started) / 1000} s; zone0 ${retired(0)}, zone1 ${retired(1)} instructions`);
  return { instance, console0, hvc1 };
}

/** zone0 (10.0.0.1) pings zone1 (10.0.0.2) and back, three echoes each, none lost. */
export async function expectPingBothWays(zones: TwoZones, guestMs: number): Promise<void> {
  const from0 = await zones.console0.run('ping -c 3 10.0.0.2', /packet loss[\s\S]*zone0# $/, guestMs);
  expect(from0).toMatch(/3 packets transmitted, 3 packets received, 0% packet loss/);
  expect(from0).toMatch(/64 bytes from 10\.0\.0\.2: seq=2/);
  const from1 = await zones.hvc1.console.run('ping -c 3 10.0.0.1', /packet loss[\s\S]*zone1# $/, guestMs);
  expect(from1).toMatch(/3 packets transmitted, 3 packets received, 0% packet loss/);
}

export async function stopTwoZones(zones: TwoZones | undefined): Promise<void> {
  zones?.hvc1.socket.destroy();
  await zones?.instance.close();
}
