import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { dispatch, errorInfo, InvalidRequestError } from '../../shared/ipc-contract.js';
import type { PakitNode } from '../app/pakit-node.js';

export interface BridgeServerInit {
  readonly node: PakitNode;
  /** Address to bind. Default 127.0.0.1 (loopback only). */
  readonly host?: string;
  /** Port; 0 picks a free one. Default 0. */
  readonly port?: number;
  /** The access token; default 32 random bytes. */
  readonly token?: string;
  /** The built renderer to serve; without one, a page says how to build it. */
  readonly staticDir?: string;
}

/** The path of the WebSocket bridge. */
export const BRIDGE_PATH = '/bridge';

/** Content-Security-Policy of every page: our own scripts and the bridge on the same origin only. */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export const isLoopback = (host: string): boolean =>
  host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');

/**
 * `pakit serve`: the renderer over HTTP and the IPC contract over a WebSocket, for a browser.
 * Every request must name an expected Host (a DNS-rebinding page names its own); the bridge also
 * needs the same Origin as the page and the access token, checked before the upgrade.
 */
export class BridgeServer {
  readonly token: string;
  readonly #node: PakitNode;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #staticDir: string | undefined;
  readonly #host: string;
  #port = 0;
  readonly #sockets = new Set<WebSocket>();
  readonly #unsubscribe: () => void;

  private constructor(init: BridgeServerInit) {
    this.#node = init.node;
    this.token = init.token ?? randomBytes(32).toString('hex');
    this.#host = init.host ?? '127.0.0.1';
    this.#staticDir = init.staticDir;
    this.#http = createServer((req, res) => this.#onHttp(req, res));
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
    this.#http.on('upgrade', (req, socket, head) => {
      const why = this.#refuse(req, 'bridge');
      if (why) {
        socket.end(`HTTP/1.1 ${why.status} ${why.text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onSocket(ws));
    });
    this.#unsubscribe = this.#node.onEvent((event, payload) => {
      const msg = JSON.stringify({ event, payload });
      for (const ws of this.#sockets) ws.send(msg);
    });
  }

  static async start(init: BridgeServerInit): Promise<BridgeServer> {
    const s = new BridgeServer(init);
    await new Promise<void>((resolve, reject) => {
      s.#http.once('error', reject);
      s.#http.listen(init.port ?? 0, s.#host, () => resolve());
    });
    s.#port = (s.#http.address() as AddressInfo).port;
    return s;
  }

  get port(): number {
    return this.#port;
  }

  /** The address to open: the token rides in the fragment, which browsers never send to a server. */
  get url(): string {
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `http://${host}:${this.#port}/#token=${this.token}`;
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    for (const ws of this.#sockets) ws.terminate();
    await new Promise<void>((r) => this.#wss.close(() => r()));
    await new Promise<void>((r) => this.#http.close(() => r()));
  }

  /** Hosts a request may name: the bound address, and for loopback its usual names. */
  #allowedHosts(): Set<string> {
    const p = this.#port;
    const hosts = new Set([`${this.#host.includes(':') ? `[${this.#host}]` : this.#host}:${p}`]);
    if (isLoopback(this.#host)) for (const h of ['127.0.0.1', 'localhost', '[::1]']) hosts.add(`${h}:${p}`);
    return hosts;
  }

  /**
   * Why a request is refused, or undefined. Every request must name an expected Host; the bridge
   * (token in its query) and uploads (token in x-pakit-token) also need our Origin and the token.
   */
  #refuse(req: IncomingMessage, access: 'page' | 'bridge' | 'upload'): { status: number; text: string } | undefined {
    const host = req.headers.host ?? '';
    // Bound to every interface (--host 0.0.0.0), the names clients use cannot be known in advance;
    // the Origin and token checks still hold there.
    const wildcard = this.#host === '0.0.0.0' || this.#host === '::';
    if (!wildcard && !this.#allowedHosts().has(host.toLowerCase()))
      return { status: 403, text: 'Forbidden (unexpected Host)' };
    if (access === 'page') return undefined;
    if (req.headers.origin !== `http://${host}`) return { status: 403, text: 'Forbidden (foreign or missing Origin)' };
    let token: string;
    if (access === 'bridge') {
      const url = new URL(req.url ?? '/', `http://${host}`);
      if (url.pathname !== BRIDGE_PATH) return { status: 404, text: 'Not Found' };
      token = url.searchParams.get('token') ?? '';
    } else token = String(req.headers['x-pakit-token'] ?? '');
    const given = Buffer.from(token);
    const want = Buffer.from(this.token);
    if (given.length !== want.length || !timingSafeEqual(given, want))
      return { status: 401, text: 'Unauthorized (missing or wrong token)' };
    return undefined;
  }

  #onHttp(req: IncomingMessage, res: ServerResponse): void {
    const why = this.#refuse(req, 'page');
    if (why) {
      res.writeHead(why.status, { 'content-type': 'text/plain' }).end(`${why.text}\n`);
      return;
    }
    if (req.method === 'POST' && new URL(req.url ?? '/', 'http://x').pathname === '/upload') {
      void this.#onUpload(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const headers = {
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    };
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = this.#staticFile(path === '/' ? '/index.html' : path);
    if (file) {
      res.writeHead(200, { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
      return;
    }
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { ...headers, 'content-type': TYPES['.html'] });
      res.end(
        '<!doctype html><meta charset="utf-8"><title>Pakit</title>' +
          '<p>The Pakit bridge is running, but the renderer is not built in this checkout.</p>',
      );
      return;
    }
    res.writeHead(404, headers).end();
  }

  /** POST /upload: one file's bytes, its name in x-pakit-name; the token and Origin as for the bridge. */
  async #onUpload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const why = this.#refuse(req, 'upload');
    if (why) {
      req.resume();
      return reply(why.status, { ok: false, error: errorInfo(new InvalidRequestError(why.text)) });
    }
    let name: string;
    try {
      name = decodeURIComponent(String(req.headers['x-pakit-name'] ?? ''));
    } catch {
      name = '';
    }
    try {
      reply(200, { ok: true, value: await this.#node.storeUpload(name, req) });
    } catch (e) {
      req.resume();
      reply(400, { ok: false, error: errorInfo(e) });
    }
  }

  #staticFile(path: string): string | undefined {
    if (!this.#staticDir) return undefined;
    const full = normalize(join(this.#staticDir, decodeURIComponent(path)));
    if (!full.startsWith(this.#staticDir + sep)) return undefined;
    return existsSync(full) ? full : undefined;
  }

  #onSocket(ws: WebSocket): void {
    this.#sockets.add(ws);
    ws.on('close', () => this.#sockets.delete(ws));
    ws.on('message', (data) => {
      let msg: { id?: unknown; method?: unknown; params?: unknown };
      try {
        msg = JSON.parse(data.toString()) as typeof msg;
      } catch {
        const error = errorInfo(new InvalidRequestError('a bridge message must be JSON'));
        ws.send(JSON.stringify({ id: null, result: { ok: false, error } }));
        return;
      }
      const id = typeof msg?.id === 'number' ? msg.id : null;
      void dispatch(this.#node.handlers, msg?.method, msg?.params).then((result) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, result }));
      });
    });
  }
}
