import { DeviceDescriptionError, type DeviceNodeDescription } from '../../device-node.js';
import type { MmioDevice } from '../../../machine/mmio-device.js';
import { ScmiBaseProtocol, type ScmiIdentity } from './base-protocol.js';
import { channelCapacity } from './channel.js';
import { ScmiClockProtocol, type ScmiClockSpec } from './clock-protocol.js';
import { ScmiPlatform } from './platform.js';
import { ScmiResetProtocol } from './reset-protocol.js';
import { ScmiSmcTransport } from './smc-transport.js';

/** A SoC firmware's SCMI tables: who it says it is, its clocks and its reset domains by index. */
export interface ScmiFirmwareTables {
  readonly identity: ScmiIdentity;
  readonly clocks: readonly ScmiClockSpec[];
  readonly resets: readonly string[];
}

/** No SoC tables: the protocols exist with nothing in them. */
export const emptyScmiFirmware: ScmiFirmwareTables = {
  identity: { vendor: 'hvisor-ts', subVendor: '', implementationVersion: 0 },
  clocks: [],
  resets: [],
};

/**
 * The platform behind an `arm,scmi-smc` node: base, clock and reset protocols from the SoC's
 * tables, reached through the SMC doorbell `arm,smc-id` and the shared memory its `shmem` phandle
 * names. `modelAt` finds the area's model when the first message comes (it is another node).
 */
export function createScmiSmcFirmware(
  node: DeviceNodeDescription,
  modelAt: (address: number) => MmioDevice | undefined,
  tables: ScmiFirmwareTables,
  log?: (line: string) => void,
): ScmiSmcTransport {
  const id = node.property?.('arm,smc-id');
  if (id === undefined || id.length !== 4) throw new DeviceDescriptionError(node.path, 'has no arm,smc-id (the SMC function id of its doorbell)');
  const area = node.linkedWindows?.('shmem')[0];
  if (area === undefined) throw new DeviceDescriptionError(node.path, 'has no shmem phandle naming an arm,scmi-shmem area with a reg');
  const clock = new ScmiClockProtocol(tables.clocks);
  const reset = new ScmiResetProtocol(tables.resets);
  const base = new ScmiBaseProtocol(tables.identity, [clock.id, reset.id]);
  const platform = new ScmiPlatform([base, clock, reset], channelCapacity(area.size));
  const functionId = new DataView(id.buffer, id.byteOffset, 4).getUint32(0);
  return new ScmiSmcTransport(functionId, () => {
    const memory = modelAt(area.base);
    return memory === undefined ? undefined : { memory, size: area.size };
  }, platform, log);
}
