// The renderer's side of the IPC contract over `pakit serve`'s WebSocket bridge. Built from the
// contract's keys (shared/ipc-contract.ts): no method name is written here.
import {
  EVENT_NAMES,
  METHODS,
  type EventName,
  type Events,
  type Method,
  type PakitApi,
  type Result,
} from '../../../shared/ipc-contract.js';

export interface Bridge {
  readonly api: PakitApi;
  on<E extends EventName>(name: E, fn: (payload: Events[E]) => void): () => void;
  readonly token: string;
}

export function tokenFromLocation(): string {
  return new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
}

/** What the Electron preload exposes (preload/index.cts). */
interface PreloadBridge {
  invoke(method: string, payload: unknown): Promise<Result<unknown>>;
  on(event: string, fn: (payload: unknown) => void): () => void;
  pathForFile(file: File): string;
}

/** The desktop app's preload, when the renderer runs in Electron. */
export function preloadBridge(): PreloadBridge | undefined {
  return (globalThis as { pakitBridge?: PreloadBridge }).pakitBridge;
}

export function connectBridge(token = tokenFromLocation()): Promise<Bridge> {
  const pre = preloadBridge();
  if (pre) {
    const api = Object.fromEntries(
      METHODS.map((m) => [m, (req: unknown) => pre.invoke(m, req)]),
    ) as unknown as PakitApi;
    return Promise.resolve({
      api,
      token: '',
      on: (name, fn) => pre.on(name, fn as (p: unknown) => void),
    });
  }
  const ws = new WebSocket(
    `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/bridge?token=${encodeURIComponent(token)}`,
  );
  const pending = new Map<number, (r: Result<unknown>) => void>();
  const listeners = new Map<string, Set<(p: unknown) => void>>(EVENT_NAMES.map((e) => [e, new Set()]));
  let next = 1;
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(String(ev.data)) as {
      id?: number;
      result?: Result<unknown>;
      event?: string;
      payload?: unknown;
    };
    if (typeof msg.id === 'number' && msg.result) {
      pending.get(msg.id)?.(msg.result);
      pending.delete(msg.id);
    } else if (msg.event) for (const fn of listeners.get(msg.event) ?? []) fn(msg.payload);
  });
  const call = (method: Method, params: unknown): Promise<Result<unknown>> =>
    new Promise((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  const api = Object.fromEntries(METHODS.map((m) => [m, (req: unknown) => call(m, req)])) as unknown as PakitApi;
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () =>
      resolve({
        api,
        token,
        on: (name, fn) => {
          const set = listeners.get(name)!;
          const f = fn as (p: unknown) => void;
          set.add(f);
          return () => set.delete(f);
        },
      }),
    );
    ws.addEventListener('error', () => reject(new Error('could not connect to the Pakit node (is the token right?)')));
  });
}

export interface Receipt {
  readonly name: string;
  readonly hash: string;
  readonly size: number;
  readonly storedSize: number;
}

/** Uploads one file to the node, which archives it; reports progress as bytes sent. */
export function archiveFile(token: string, file: File, onProgress: (sent: number) => void): Promise<Receipt> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/upload');
    xhr.setRequestHeader('x-pakit-token', token);
    xhr.setRequestHeader('x-pakit-name', encodeURIComponent(file.name));
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      const body = JSON.parse(xhr.responseText) as Result<Receipt>;
      if (body.ok) resolve(body.value);
      else reject(new Error(body.error.message));
    };
    xhr.onerror = () => reject(new Error(`could not upload ${file.name}`));
    xhr.send(file);
  });
}
