/**
 * A zone or virtio config that does not match hvisor-tool's schema. The message names the file,
 * the JSON path (`memory_regions[2].size`) and what was expected there.
 */
export class ZoneConfigError extends Error {
  constructor(
    readonly file: string,
    readonly jsonPath: string,
    readonly expected: string,
  ) {
    super(`${file}: ${jsonPath === '' ? '(top level)' : jsonPath}: ${expected}`);
    this.name = 'ZoneConfigError';
  }
}
