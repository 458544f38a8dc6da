/** Device status bits (virtio 1.2 §2.1), shared by both transports. */
export const VirtioStatus = {
  Acknowledge: 1,
  Driver: 2,
  DriverOk: 4,
  FeaturesOk: 8,
  NeedsReset: 64,
  Failed: 128,
} as const;
