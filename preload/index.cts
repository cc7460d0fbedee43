// Preload (sandboxed, CommonJS): exposes `window.pakitBridge`, a generic invoke/on pair limited to
// the contract's method and event names, which main passes in additionalArguments. The renderer
// builds its typed API (shared/ipc-contract.ts PakitApi) on top of it.
import { contextBridge, ipcRenderer, webUtils } from 'electron';

function listArg(name: string): Set<string> {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return new Set(arg ? arg.slice(name.length + 3).split(',') : []);
}

const methods = listArg('pakit-methods');
const events = listArg('pakit-events');

contextBridge.exposeInMainWorld('pakitBridge', {
  invoke(method: string, payload: unknown): Promise<unknown> {
    if (!methods.has(method)) return Promise.reject(new Error(`unknown method ${method}`));
    return ipcRenderer.invoke('pakit:invoke', method, payload);
  },
  on(event: string, fn: (payload: unknown) => void): () => void {
    if (!events.has(event)) throw new Error(`unknown event ${event}`);
    const listener = (_e: unknown, name: string, payload: unknown): void => {
      if (name === event) fn(payload);
    };
    ipcRenderer.on('pakit:event', listener);
    return () => ipcRenderer.removeListener('pakit:event', listener);
  },
  /** The local path of a dropped file (Electron only), so main archives it in place. */
  pathForFile(file: File): string {
    return webUtils.getPathForFile(file);
  },
});
