/**
 * Where input from outside a zone enters a model: a terminal's keys, a socket's bytes, a frame from
 * another zone or another instance. Models stay zone-neutral: whoever builds them passes the zone's
 * `OutsideInputs`, and record/replay (src/hypervisor/replay/) sits behind it: recording notes each
 * input at the zone's instruction count before delivering it; replaying drops live input and
 * delivers the log's at the same counts.
 */
export interface OutsideInputs {
  /**
   * A source named `name` (unique in its zone: `console`, `virtio-console0`, `net0`) whose input
   * `deliver` hands to the model; returns what the host side calls with each input instead.
   */
  channel(name: string, deliver: (data: Uint8Array) => void): (data: Uint8Array) => void;
}

/** No recording: input goes straight to the model. */
export const directInputs: OutsideInputs = { channel: (_name, deliver) => deliver };
