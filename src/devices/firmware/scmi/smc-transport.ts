import type { SmcService } from '../../../machine/smc-service.js';
import type { MmioDevice } from '../../../machine/mmio-device.js';
import { serveChannel } from './channel.js';
import type { ScmiPlatform } from './platform.js';

/** Diagnostic lines one transport writes at most: a guest ringing in a loop cannot flood the log. */
const MAX_LOG_LINES = 16;

/** SMCCC's NOT_SUPPORTED (-1), what the doorbell returns when the channel is missing. */
const SMCCC_NOT_SUPPORTED = 0xffff_ffff_ffff_ffffn;

/** Where the channel's memory is: resolved at the first doorbell (the area's node may be built after this one). */
export type ChannelLookup = () => { readonly memory: MmioDevice; readonly size: number } | undefined;

/**
 * The SMC transport of SCMI (`arm,scmi-smc`): the agent rings the doorbell with an SMC to the
 * node's `arm,smc-id` (no arguments) once its message is in the shared memory, and the message is
 * answered by the time the SMC returns (x0 = 0), so no completion interrupt is needed.
 */
export class ScmiSmcTransport implements SmcService {
  readonly name = 'scmi-smc';
  private channel: ReturnType<ChannelLookup>;
  private logged = 0;

  constructor(
    private readonly functionId: number,
    private readonly lookup: ChannelLookup,
    readonly platform: ScmiPlatform,
    private readonly log?: (line: string) => void,
  ) {}

  reset(): void {
    this.platform.reset();
  }

  call(regs: BigUint64Array): boolean {
    if (Number(regs[0]! & 0xffff_ffffn) !== this.functionId) return false;
    this.channel ??= this.lookup();
    if (this.channel === undefined) {
      this.note('doorbell rung, but no model stands at its shared memory (is the area in the zone?)');
      regs[0] = SMCCC_NOT_SUPPORTED;
      return true;
    }
    if (serveChannel(this.channel.memory, this.channel.size, this.platform) === 'malformed') {
      this.note('message refused (length outside the channel, or not a command): channel error set');
    }
    regs[0] = 0n;
    return true;
  }

  private note(what: string): void {
    if (this.log === undefined || this.logged >= MAX_LOG_LINES) return;
    this.logged++;
    this.log(`scmi-smc: ${what}${this.logged === MAX_LOG_LINES ? ' (further messages dropped)' : ''}`);
  }
}
