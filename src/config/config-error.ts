import { HvisorError } from '../util/hvisor-error.js';
/**
 * A configuration that does not match its schema: a zone config, virtio_cfg.json, the `--pci`
 * file, or a binary `struct zone_config`. The message names the file (or where the bytes came
 * from), the field (`memory_regions[2].size`) and what was expected there.
 */
export class ConfigError extends HvisorError {
  constructor(
    readonly file: string,
    /** The JSON path or struct field; '' for the document as a whole. */
    readonly jsonPath: string,
    readonly expected: string,
  ) {
    super(`${file}: ${jsonPath === '' ? '(top level)' : jsonPath}: ${expected}`);
  }
}
