import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VirtioGpuBackend } from './virtio-gpu-backend.js';
import { HvisorError } from '../../util/hvisor-error.js';

export class FramebufferServerError extends HvisorError {}

/**
 * A local web page showing a zone's virtio-gpu scanouts: `/` is a page that reloads the images
 * every second, `/scanout/N.png` the current picture (404 while the guest shows nothing).
 * Loopback only unless told otherwise: the screen of a zone is not for the network.
 */
export class FramebufferServer {
  readonly listening: Promise<void>;
  /** The last socket error after listening (a client gone wrong), for the monitor. */
  lastError: string | undefined;
  private readonly server: Server;

  constructor(
    private readonly gpu: VirtioGpuBackend,
    port = 0,
    host = '127.0.0.1',
    private readonly title = 'hvisor-ts zone display',
  ) {
    this.server = createServer((req, res) => {
      const url = req.url ?? '/';
      const shot = /^\/scanout\/(\d+)\.png(\?.*)?$/.exec(url);
      if (req.method !== 'GET') {
        res.writeHead(405).end();
      } else if (url === '/' || url === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(this.page());
      } else if (shot !== null) {
        const png = this.gpu.png(Number(shot[1]));
        if (png === undefined) res.writeHead(404, { 'content-type': 'text/plain' }).end('scanout disabled\n');
        else res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' }).end(png);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    });
    this.listening = new Promise((resolve, reject) => {
      // Before listening an error is the caller's (port in use); after, it is recorded, never fatal.
      this.server.on('error', (e) => {
        this.lastError = e.message;
        reject(new FramebufferServerError(`framebuffer page ${host}:${port}: ${e.message}`));
      });
      this.server.listen(port, host, () => resolve());
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private page(): string {
    const images = Array.from({ length: this.gpu.scanoutCount }, (_, i) =>
      `<figure><img id="s${i}" src="/scanout/${i}.png" alt="scanout ${i}"><figcaption>scanout ${i}</figcaption></figure>`).join('\n');
    const esc = this.title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
    return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc}</title>
<style>body{background:#222;color:#ccc;font-family:sans-serif}img{image-rendering:pixelated;border:1px solid #555}</style></head>
<body><h1>${esc}</h1>
${images}
<script>setInterval(() => document.querySelectorAll('img').forEach((img, i) => { img.src = '/scanout/' + i + '.png?' + Date.now(); }), 1000);</script>
</body></html>
`;
  }
}
