// The Electron shell: wires the node's services to a window, the tray and IPC — nothing else.
// Everything it shows comes from PakitNode (main/app) through the IPC contract (shared/).
import { app, BrowserWindow, dialog, ipcMain, Notification, shell } from 'electron';
import { fileURLToPath } from 'node:url';
import { PakitNode } from '../app/pakit-node.js';
import { defaultDataDir } from '../cli/args.js';
import {
  dispatch,
  errorInfo,
  EVENT_NAMES,
  METHODS,
  type ChainStatusView,
  type Events,
} from '../../shared/ipc-contract.js';
import type { SyncStatus } from '../../shared/sync-status.js';
import { APP_ORIGIN, fromOurWindow, lockDown, registerAppScheme } from './security.js';
import { PakitTray } from './tray.js';

const dist = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));
const RENDERER = dist('../../renderer');
const PRELOAD = dist('../../preload/index.cjs');
const ASSETS = dist('../../../assets');

/** Channel names: one for calls, one for pushes; method and event names come from the contract. */
export const INVOKE_CHANNEL = 'pakit:invoke';
export const EVENT_CHANNEL = 'pakit:event';

let node: PakitNode | undefined;
let win: BrowserWindow | undefined;
let tray: PakitTray | undefined;
let quitting = false;

function createWindow(): BrowserWindow {
  const w = new BrowserWindow({
    width: 1100,
    height: 760,
    show: false,
    title: 'Pakit',
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      preload: PRELOAD,
      // The preload learns the contract's names from here: it cannot import the contract itself.
      additionalArguments: [`--pakit-methods=${METHODS.join(',')}`, `--pakit-events=${EVENT_NAMES.join(',')}`],
    },
  });
  w.once('ready-to-show', () => w.show());
  // Closing the window keeps the node running in the tray.
  w.on('close', (e) => {
    if (!quitting) {
      e.preventDefault();
      w.hide();
    }
  });
  void w.loadURL(`${APP_ORIGIN}/index.html`);
  return w;
}

function showWindow(): void {
  win ??= createWindow();
  win.show();
  win.focus();
}

function notify(s: SyncStatus): void {
  if (!Notification.isSupported()) return;
  const newest = s.recent[0];
  if (s.state === 'error' || s.state === 'needs-confirmation')
    new Notification({ title: 'Pakit needs attention', body: s.reason ?? s.state }).show();
  else if (newest?.kind === 'conflict' && newest.at > Date.now() - 5_000)
    new Notification({ title: 'Pakit: conflict', body: `${newest.path}: ${newest.detail ?? ''}` }).show();
}

/** Says once per queued checkpoint that the chain could not be reached (it is retried anyway). */
let toldAbout: number | undefined;
function notifyChain(s: ChainStatusView): void {
  const p = s.pending;
  if (!Notification.isSupported() || s.state !== 'waiting' || !p || toldAbout === p.size) return;
  toldAbout = p.size;
  new Notification({
    title: 'Pakit: anchoring delayed',
    body: `${p.lastError ?? 'the chain is unreachable'}; retrying`,
  }).show();
}

async function start(): Promise<void> {
  lockDown(RENDERER);
  const folder = process.env.PAKIT_FOLDER;
  // Anchoring uses the chain settings saved in Settings; the signer is $PAKIT_SURI or entered there.
  const suri = process.env.PAKIT_SURI;
  node = await PakitNode.start({
    dataDir: defaultDataDir(),
    ...(folder ? { folder } : {}),
    ...(suri ? { signer: { suri } } : {}),
  });
  const n = node;

  ipcMain.handle(INVOKE_CHANNEL, async (event, method: unknown, payload: unknown) => {
    if (!fromOurWindow(event, win?.webContents))
      return { ok: false, error: errorInfo(new Error('IPC refused: not from the Pakit window')) };
    return dispatch(n.handlers, method, payload);
  });
  n.onEvent((name, payload) => {
    // A hidden window does no work: it reloads its state when shown.
    if (win && win.isVisible()) win.webContents.send(EVENT_CHANNEL, name, payload);
    // Both events can mean a new sync status (node.status: another folder); the tray shows the current one.
    const status = n.folder?.status;
    tray?.update(status);
    if (name === 'sync.status' && status) notify(status);
    if (name === 'chain.status') notifyChain(payload as Events['chain.status']);
  });

  tray = new PakitTray(ASSETS, {
    open: showWindow,
    // The folder can change in Settings: looked up when the menu is used.
    hasFolder: () => n.folder !== undefined,
    openFolder: () => {
      if (n.folder) void shell.openPath(n.folder.root);
    },
    pause: () => n.folder?.pause(),
    resume: () => n.folder?.resume(),
    quit: () => app.quit(),
    openAtLogin: {
      get: () => app.getLoginItemSettings().openAtLogin,
      set: (on) => app.setLoginItemSettings({ openAtLogin: on }),
    },
  });
  tray.update(n.folder?.status);
  showWindow();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  registerAppScheme();
  app.on('second-instance', showWindow);
  app.on('window-all-closed', () => {
    // Stay in the tray.
  });
  app.on('before-quit', (e) => {
    if (quitting) return;
    quitting = true;
    e.preventDefault();
    tray?.destroy();
    void (node?.stop() ?? Promise.resolve()).finally(() => app.exit(0));
  });
  app
    .whenReady()
    .then(start)
    .catch((e: unknown) => {
      dialog.showErrorBox('Pakit could not start', e instanceof Error ? e.message : String(e));
      app.exit(1);
    });
}
