/** Linux errno values hvisor returns (negated) from hypercalls. */
export const Errno = { EPERM: 1, ENOENT: 2, EIO: 5, EBUSY: 16, ENODEV: 19, EINVAL: 22, ENOSYS: 38 } as const;

/** A lifecycle request that cannot be done: says why, with the errno hvisor would return. */
export class LifecycleError extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
    this.name = 'LifecycleError';
  }
}
