/**
 * The one error type of the dtb library. Every malformed blob, bad property or unresolvable
 * reference ends up here, naming where: a byte offset in the blob, a node path, or both.
 */
export interface DtbErrorLocation {
  /** Byte offset in the blob where the problem was found. */
  readonly offset?: number;
  /** Path of the node concerned. */
  readonly path?: string;
}

export class DtbError extends Error {
  readonly offset: number | undefined;
  readonly path: string | undefined;

  constructor(message: string, where: DtbErrorLocation = {}) {
    const at: string[] = [];
    if (where.path !== undefined) at.push(where.path);
    if (where.offset !== undefined) at.push(`offset 0x${where.offset.toString(16)}`);
    super(at.length > 0 ? `${at.join(' at ')}: ${message}` : message);
    this.name = 'DtbError';
    this.offset = where.offset;
    this.path = where.path;
  }
}
