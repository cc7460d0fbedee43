import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { PakitNode } from '../../../main/app/pakit-node.js';
import { BridgeServer, CSP } from '../../../main/serve/bridge-server.js';
import { writeSettled } from '../../helpers/files.js';
import { tempDir } from '../../helpers/tmp.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function serve() {
  const folder = tempDir('pakit-serve-');
  writeSettled(folder, 'first.txt', 'first');
  const node = await PakitNode.start({ dataDir: tempDir(), folder, settleMs: 100 });
  cleanup.push(() => node.stop());
  const server = await BridgeServer.start({ node });
  cleanup.push(() => server.close());
  return { node, server, folder, origin: `http://127.0.0.1:${server.port}` };
}

/** Opens the bridge; resolves with the socket, or rejects with the HTTP status it was refused with. */
function connect(url: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, id: number, method: string, params?: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    const onMsg = (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { id?: number; result?: unknown };
      if (m.id === id) {
        ws.off('message', onMsg);
        resolve(m.result);
      }
    };
    ws.on('message', onMsg);
    ws.send(JSON.stringify({ id, method, params }));
  });
}

function get(port: number, path: string, host: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('pakit serve: the WebSocket bridge', () => {
  it('answers contract calls for a client with the token and our Origin, and pushes status events', async () => {
    const { node, server, origin, folder } = await serve();
    expect(server.url).toBe(`${origin}/#token=${server.token}`);
    const ws = await connect(`ws://127.0.0.1:${server.port}/bridge?token=${server.token}`, { origin });
    cleanup.push(async () => ws.close());
    const status = (await call(ws, 1, 'node.status', {})) as { ok: boolean; value: { archiveId: string } };
    expect(status).toMatchObject({
      ok: true,
      value: { archiveId: node.archive.id, sync: { root: expect.any(String) } },
    });
    const bad = await call(ws, 2, 'archive.proof', { hash: 'nope' });
    expect(bad).toMatchObject({ ok: false, error: { name: 'InvalidRequestError' } });
    const unknown = await call(ws, 3, 'fs.readFile', { path: '/etc/passwd' });
    expect(unknown).toMatchObject({ ok: false, error: { name: 'UnknownMethodError' } });

    // A file written into the sync folder: status events arrive, then its versions are there.
    const events: string[] = [];
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as { event?: string; payload?: { state: string } };
      if (m.event === 'sync.status') events.push(m.payload!.state);
    });
    writeSettled(folder, 'second.txt', 'second', 0);
    const end = Date.now() + 10_000;
    let versions: unknown;
    while (Date.now() < end) {
      versions = await call(ws, 4, 'sync.versions', { path: 'second.txt' });
      if ((versions as { ok: boolean }).ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(versions).toMatchObject({ ok: true, value: [{ deleted: false, size: 6, origin: 'local' }] });
    expect(events).toContain('syncing');
    expect(events.at(-1)).toBe('idle');
    const hash = (versions as { value: { hash: string }[] }).value[0]!.hash;
    const proof = await call(ws, 5, 'archive.proof', { hash });
    expect(proof).toMatchObject({ ok: true, value: { format: 'pakit-proof' } });
  }, 30_000);

  it('refuses a wrong or missing token, a foreign Origin and an unexpected Host', async () => {
    const { node, server, origin } = await serve();
    const base = `ws://127.0.0.1:${server.port}/bridge`;
    await expect(connect(`${base}?token=${'0'.repeat(64)}`, { origin })).rejects.toThrow('refused 401');
    await expect(connect(base, { origin })).rejects.toThrow('refused 401');
    await expect(connect(`${base}?token=${server.token}`, { origin: 'http://evil.example' })).rejects.toThrow(
      'refused 403',
    );
    await expect(connect(`${base}?token=${server.token}`, {})).rejects.toThrow('refused 403');
    // DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own Host.
    const rebound = `http://evil.example:${server.port}`;
    await expect(
      connect(`${base}?token=${server.token}`, { origin: rebound, host: `evil.example:${server.port}` }),
    ).rejects.toThrow('refused 403');
    expect((await get(server.port, '/', `evil.example:${server.port}`)).status).toBe(403);
    const page = await get(server.port, '/', `127.0.0.1:${server.port}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CSP);
    expect((await get(server.port, '/', `localhost:${server.port}`)).status).toBe(200);

    // Uploads need the same Origin and the token (in a header); a refused one stores nothing.
    const upload = (headers: Record<string, string>): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: server.port,
            path: '/upload',
            method: 'POST',
            headers: { 'x-pakit-name': 'x.txt', ...headers },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end('payload');
      });
    const objects = node.archive.stats().objects;
    expect(await upload({ origin })).toBe(401);
    expect(await upload({ origin, 'x-pakit-token': 'f'.repeat(64) })).toBe(401);
    expect(await upload({ origin: 'http://evil.example', 'x-pakit-token': server.token })).toBe(403);
    expect(node.archive.stats().objects).toBe(objects);
    expect(await upload({ origin, 'x-pakit-token': server.token })).toBe(200);
    expect(node.archive.stats().objects).toBe(objects + 1);
  });
});
