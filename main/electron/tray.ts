import { Menu, nativeImage, Tray, type MenuItemConstructorOptions } from 'electron';
import { join } from 'node:path';
import { describeSyncStatus, type SyncStatus } from '../../shared/sync-status.js';

export interface TrayActions {
  readonly open: () => void;
  readonly hasFolder: () => boolean;
  readonly openFolder: () => void;
  readonly pause: () => void;
  readonly resume: () => void;
  readonly quit: () => void;
  readonly openAtLogin: { readonly get: () => boolean; readonly set: (on: boolean) => void };
}

type Icon = 'idle' | 'syncing' | 'paused' | 'error';

function iconFor(s: SyncStatus | undefined): Icon {
  const state = s?.state ?? 'idle';
  switch (state) {
    case 'idle':
      return 'idle';
    case 'scanning':
    case 'syncing':
      return 'syncing';
    case 'paused':
      return 'paused';
    case 'error':
    case 'needs-confirmation':
      return 'error';
    default: {
      const never: never = state;
      throw new Error(`unknown sync state ${String(never)}`);
    }
  }
}

/** The tray icon (idle / syncing / paused / error) and its menu, redrawn on every status. */
export class PakitTray {
  readonly #tray: Tray;
  readonly #assets: string;
  readonly #actions: TrayActions;
  #icon: Icon | undefined;

  constructor(assetsDir: string, actions: TrayActions) {
    this.#assets = assetsDir;
    this.#actions = actions;
    this.#tray = new Tray(this.#image('idle'));
    this.#tray.on('click', actions.open);
    this.update(undefined);
  }

  #image(icon: Icon) {
    return nativeImage.createFromPath(join(this.#assets, `tray-${icon}.png`));
  }

  update(s: SyncStatus | undefined): void {
    const icon = iconFor(s);
    if (icon !== this.#icon) {
      this.#tray.setImage(this.#image(icon));
      this.#icon = icon;
    }
    const line = s ? describeSyncStatus(s) : 'No sync folder';
    this.#tray.setToolTip(`Pakit — ${line}`);
    const a = this.#actions;
    const items: MenuItemConstructorOptions[] = [
      { label: line, enabled: false },
      { type: 'separator' },
      { label: 'Open Pakit', click: a.open },
      { label: 'Open sync folder', enabled: a.hasFolder(), click: a.openFolder },
      s?.state === 'paused'
        ? { label: 'Resume', click: a.resume }
        : { label: 'Pause', enabled: s !== undefined, click: a.pause },
      {
        label: 'Open at login',
        type: 'checkbox',
        checked: a.openAtLogin.get(),
        click: (item) => a.openAtLogin.set(item.checked),
      },
      { type: 'separator' },
      { label: 'Quit Pakit', click: a.quit },
    ];
    this.#tray.setContextMenu(Menu.buildFromTemplate(items));
  }

  destroy(): void {
    this.#tray.destroy();
  }
}
