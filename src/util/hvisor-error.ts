/** Linux errno values hvisor returns (negated) from hypercalls (hvisor's HvErrorNum). */
export const Errno = { EPERM: 1, ENOENT: 2, EIO: 5, EBUSY: 16, ENODEV: 19, EINVAL: 22, ENOSYS: 38 } as const;

/**
 * The base of hvisor-ts's errors, after hvisor's `HvError {num, msg}` (src/error.rs): the class
 * name as `name` (so a report says which kind of error it is) and the errno a hypercall or a
 * control-socket reply carries for it, EINVAL unless the kind says otherwise. dtb/ and gdbstub/
 * stand alone (they import nothing of ours) and name their errors the same way themselves.
 */
export class HvisorError extends Error {
  constructor(
    message: string,
    readonly errno: number = Errno.EINVAL,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The errno for any thrown value: a HvisorError's own, EINVAL for the rest. */
export function errnoOf(e: unknown): number {
  return e instanceof HvisorError ? e.errno : Errno.EINVAL;
}
