import { connect, type Server } from 'node:net';
import { chmodSync, linkSync, lstatSync, mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HvisorError } from './hvisor-error.js';

/** A Unix socket cannot be set up at the path asked for. */
export class SocketPathError extends HvisorError {
  constructor(message: string) {
    super(message);
  }
}

/**
 * Binds `server` to the Unix socket `path` so that only its owner's uid and root can connect: the
 * peer-credential check, done by the kernel. Node 20 has no SO_PEERCRED without a native addon,
 * but connecting to a Unix socket needs write permission on the socket file, and ours is mode
 * 0600 from the moment it has its name: it is bound inside a fresh 0700 folder, chmod-ed there,
 * then hard-linked to `path` (link() fails if anything exists there, so nothing is ever replaced).
 * An abstract socket would have no permissions at all, and TCP on 127.0.0.1 is open to every local
 * user.
 *
 * At `path`: nothing, or a stale socket (no one answers: removed), is fine; a live server (a second
 * instance) or anything that is not a socket (a regular file, a folder) is refused. When the server
 * closes, the socket is removed if it is still ours.
 */
export async function listenPrivate(server: Server, path: string, what: string): Promise<void> {
  await claimPath(path, what);
  const privateDir = mkdtempSync(join(dirname(path), `.${basename(path)}-`));
  const bindPath = join(privateDir, 's');
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bindPath, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    chmodSync(bindPath, 0o600);
    try {
      linkSync(bindPath, path);
    } catch (e) {
      throw new SocketPathError(`${path}: cannot create the ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; another instance may have just taken it)`);
    }
    const inode = statSync(path).ino;
    server.once('close', () => {
      try {
        if (statSync(path).ino === inode) unlinkSync(path);
      } catch {
        // already gone
      }
    });
  } catch (e) {
    server.close();
    throw e instanceof SocketPathError ? e : new SocketPathError(`${path}: cannot listen (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    rmSync(privateDir, { recursive: true, force: true });
  }
}

/** Makes `path` free for a new socket; see listenPrivate. Nothing but a stale socket is unlinked. */
async function claimPath(path: string, what: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new SocketPathError(`${path}: cannot use it as the ${what} (${(e as NodeJS.ErrnoException).code})`);
  }
  if (!isSocket) throw new SocketPathError(`${path}: exists and is not a socket; not removing it (give another path for the ${what})`);
  const answer = await new Promise<string>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve('live');
    });
    probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
  if (answer === 'ECONNREFUSED') {
    unlinkSync(path);
    return;
  }
  if (answer === 'live') throw new SocketPathError(`${path}: another hvisor is serving this ${what} (stop it, or give another path)`);
  throw new SocketPathError(`${path}: a socket that cannot be probed (${answer}); not removing it (give another path for the ${what})`);
}
