import type { SmcService } from '../../../machine/smc-service.js';
import type { MmioDevice } from '../../../machine/mmio-device.js';
import { serveChannel } from './channel.js';
import type { ScmiPlatform } from './platform.js';

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

  constructor(
    private readonly functionId: number,
    private readonly lookup: ChannelLookup,
    readonly platform: ScmiPlatform,
  ) {}

  reset(): void {
    this.platform.reset();
  }

  call(regs: BigUint64Array): boolean {
    if (Number(regs[0]! & 0xffff_ffffn) !== this.functionId) return false;
    this.channel ??= this.lookup();
    if (this.channel === undefined) {
      regs[0] = SMCCC_NOT_SUPPORTED;
      return true;
    }
    serveChannel(this.channel.memory, this.channel.size, this.platform);
    regs[0] = 0n;
    return true;
  }
}
