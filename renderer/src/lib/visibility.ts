// A hidden window does no work (ipfs-desktop once burned CPU drawing charts nobody saw): views ask
// for refreshes through this, and while the page is hidden nothing is fetched or drawn.

import type { Bridge } from './bridge.js';

export interface Refresher {
  /** Refresh now if the page is visible; otherwise when it is shown again. */
  request(): void;
  stop(): void;
}

/**
 * Runs `load` on request while the page is visible, and every time it is shown again: what changed
 * while it was hidden is not known (the Electron shell sends no events to a hidden window).
 */
export function refreshWhenVisible(load: () => void): Refresher {
  const onChange = (): void => {
    if (!document.hidden) load();
  };
  document.addEventListener('visibilitychange', onChange);
  return {
    request: () => {
      if (!document.hidden) load();
    },
    stop: () => document.removeEventListener('visibilitychange', onChange),
  };
}

/**
 * Runs `load` now, and again after every sync that finishes; while the page is hidden, once it is
 * shown. Returns the clean-up, for a view's onMount.
 */
export function refreshOnSync(bridge: Bridge, load: () => void): () => void {
  const refresh = refreshWhenVisible(load);
  refresh.request();
  const off = bridge.on('sync.status', (s) => {
    if (s.state === 'idle') refresh.request();
  });
  return () => {
    off();
    refresh.stop();
  };
}
