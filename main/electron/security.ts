import { app, protocol, session, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { CSP } from '../serve/bridge-server.js';

/** The renderer is served from this origin, never from file:// (so CSP headers apply). */
export const APP_ORIGIN = 'app://pakit';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Must run before `app` is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true } }]);
}

/**
 * Serves the built renderer under app://pakit with the same CSP as `pakit serve`; denies every
 * permission request and any navigation or new window away from the app (Electron's checklist).
 */
export function lockDown(rendererDir: string): void {
  protocol.handle('app', async (req) => {
    const url = new URL(req.url);
    const rel = url.pathname === '/' ? '/index.html' : decodeURIComponent(url.pathname);
    const file = normalize(join(rendererDir, rel));
    if (url.host !== 'pakit' || !file.startsWith(rendererDir + sep)) return new Response('not found', { status: 404 });
    try {
      const body = await readFile(file);
      return new Response(body, {
        headers: {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          'content-security-policy': CSP,
          'x-content-type-options': 'nosniff',
        },
      });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (ev, url) => {
      if (!url.startsWith(`${APP_ORIGIN}/`)) ev.preventDefault();
    });
    contents.on('will-attach-webview', (ev) => ev.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

/** IPC is answered only for our own window showing our own page. */
export function fromOurWindow(event: IpcMainInvokeEvent, ours: WebContents | undefined): boolean {
  const url = event.senderFrame?.url ?? '';
  return ours !== undefined && event.sender === ours && url.startsWith(`${APP_ORIGIN}/`);
}
