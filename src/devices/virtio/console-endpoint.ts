/**
 * The host side of a virtio console: bytes the guest writes go to `write`; bytes the host side
 * produces are handed to the sink given to `attach`. Terminal, TCP and Unix-socket endpoints
 * implement it; the console backend knows nothing about which.
 */
export interface ConsoleEndpoint {
  /** A short description for listings, e.g. "tcp 127.0.0.1:4321". */
  readonly description: string;
  write(bytes: Uint8Array): void;
  attach(sink: (bytes: Uint8Array) => void): void;
  close(): Promise<void>;
}
