/**
 * The sync folder's status as a pure state machine. The sync engine (main) folds its events through
 * `nextSyncStatus` and pushes the result; the UI and the tray only render it (`describeSyncStatus`).
 */

export const SYNC_STATES = ['idle', 'scanning', 'syncing', 'paused', 'error', 'needs-confirmation'] as const;
export type SyncState = (typeof SYNC_STATES)[number];

/** Counts for the current scan or sync run. A total of 0 while scanning means "not known yet". */
export interface SyncProgress {
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** bytes per second over the run so far; 0 until measurable */
  readonly bytesPerSecond: number;
  /** seconds left at the current rate, or null when unknown (no rate yet, or totals unknown) */
  readonly etaSeconds: number | null;
}

export type SyncActivityKind = 'added' | 'changed' | 'deleted' | 'renamed' | 'conflict' | 'skipped' | 'error';

/** One line of the recent-activity list. */
export interface SyncActivity {
  /** ms since epoch */
  readonly at: number;
  readonly kind: SyncActivityKind;
  /** relative to the folder, '/'-separated */
  readonly path: string;
  readonly detail?: string;
  /** 64 hex */
  readonly hash?: string;
}

/** A snapshot of the sync folder's status; plain data, safe to send over IPC. */
export interface SyncStatus {
  readonly state: SyncState;
  /** why: for error, paused, needs-confirmation (e.g. "marker .pakit/folder-id is missing: is the drive unmounted?") */
  readonly reason?: string;
  /** present while scanning/syncing */
  readonly progress?: SyncProgress;
  /** ms; when the current scan or sync run started (the rate is measured from here). Only while scanning/syncing. */
  readonly startedAt?: number;
  /** newest first, at most RECENT_LIMIT */
  readonly recent: readonly SyncActivity[];
  /** ms; set when a scan/batch completes */
  readonly lastSyncAt?: number;
  /** needs-confirmation only: how many deletions wait for confirmation, of how many tracked files */
  readonly pendingDeletes?: { readonly count: number; readonly of: number };
}

export type SyncEvent =
  | { readonly type: 'scan-started'; readonly at: number }
  | { readonly type: 'sync-started'; readonly at: number; readonly filesTotal: number; readonly bytesTotal: number }
  | {
      readonly type: 'progress';
      readonly at: number;
      readonly filesDone: number;
      readonly bytesDone: number;
      readonly filesTotal?: number;
      readonly bytesTotal?: number;
    }
  | { readonly type: 'activity'; readonly activity: SyncActivity }
  | { readonly type: 'completed'; readonly at: number }
  | { readonly type: 'paused'; readonly reason: string }
  | { readonly type: 'resumed' }
  | { readonly type: 'failed'; readonly reason: string }
  | { readonly type: 'confirmation-needed'; readonly count: number; readonly of: number }
  /** the user confirmed (or rejected) the pending deletions; back to idle */
  | { readonly type: 'confirmed' };

export type SyncEventType = SyncEvent['type'];

/** An event that the current state does not accept (see `canTransition`). */
export class InvalidSyncTransitionError extends Error {
  override readonly name = 'InvalidSyncTransitionError';
  readonly code = 'ERR_SYNC_TRANSITION';

  constructor(
    readonly state: SyncState,
    readonly event: SyncEventType,
  ) {
    super(`sync status: event "${event}" is not allowed in state "${state}"`);
  }
}

export const RECENT_LIMIT = 50;

/** The allowed events per state; everything else is an InvalidSyncTransitionError. */
const TRANSITIONS: { readonly [S in SyncState]: ReadonlySet<SyncEventType> } = {
  idle: new Set(['scan-started', 'paused', 'failed', 'confirmation-needed', 'activity']),
  scanning: new Set(['sync-started', 'completed', 'failed', 'paused', 'confirmation-needed', 'activity', 'progress']),
  syncing: new Set(['progress', 'activity', 'completed', 'failed', 'paused', 'confirmation-needed']),
  paused: new Set(['resumed', 'failed', 'activity', 'paused']),
  error: new Set(['scan-started', 'paused', 'resumed', 'activity', 'failed']),
  'needs-confirmation': new Set(['confirmed', 'paused', 'failed', 'activity', 'scan-started']),
};

export function initialSyncStatus(): SyncStatus {
  return { state: 'idle', recent: [] };
}

/** Whether `event` is allowed in `state` (the same table nextSyncStatus uses). */
export function canTransition(state: SyncState, event: SyncEventType): boolean {
  // Both may come from IPC, so an unknown state or event is "not allowed" rather than a crash.
  return Object.hasOwn(TRANSITIONS, state) && TRANSITIONS[state].has(event);
}

/**
 * Pure: returns the next status, never mutates its input; throws InvalidSyncTransitionError for a
 * transition not in the table, and RangeError (naming the field) for a negative or non-finite number.
 */
export function nextSyncStatus(status: SyncStatus, event: SyncEvent): SyncStatus {
  if (!canTransition(status.state, event.type)) throw new InvalidSyncTransitionError(status.state, event.type);
  switch (event.type) {
    case 'scan-started':
      checkTime('at', event.at);
      return {
        ...kept(status),
        state: 'scanning',
        startedAt: event.at,
        progress: measure(event.at, event.at, 0, 0, 0, 0),
      };
    case 'sync-started':
      checkTime('at', event.at);
      checkCount('filesTotal', event.filesTotal);
      checkCount('bytesTotal', event.bytesTotal);
      return {
        ...kept(status),
        state: 'syncing',
        startedAt: event.at,
        progress: measure(event.at, event.at, 0, event.filesTotal, 0, event.bytesTotal),
      };
    case 'progress': {
      checkTime('at', event.at);
      checkCount('filesDone', event.filesDone);
      checkCount('bytesDone', event.bytesDone);
      if (event.filesTotal !== undefined) checkCount('filesTotal', event.filesTotal);
      if (event.bytesTotal !== undefined) checkCount('bytesTotal', event.bytesTotal);
      const startedAt = status.startedAt ?? event.at;
      const filesTotal = event.filesTotal ?? status.progress?.filesTotal ?? 0;
      const bytesTotal = event.bytesTotal ?? status.progress?.bytesTotal ?? 0;
      return {
        ...kept(status),
        state: status.state,
        startedAt,
        progress: measure(startedAt, event.at, event.filesDone, filesTotal, event.bytesDone, bytesTotal),
      };
    }
    case 'activity': {
      checkTime('activity.at', event.activity.at);
      const recent = [event.activity, ...status.recent].slice(0, RECENT_LIMIT);
      // Same state, same fields: only the list changes.
      return { ...status, recent };
    }
    case 'completed':
      checkTime('at', event.at);
      return { ...kept(status), state: 'idle', lastSyncAt: event.at };
    case 'paused':
      return { ...kept(status), state: 'paused', reason: event.reason };
    case 'resumed':
    case 'confirmed':
      return { ...kept(status), state: 'idle' };
    case 'failed':
      return { ...kept(status), state: 'error', reason: event.reason };
    case 'confirmation-needed': {
      checkCount('count', event.count);
      checkCount('of', event.of);
      if (event.count > event.of) {
        throw new RangeError(`sync status: count (${event.count}) exceeds of (${event.of})`);
      }
      return {
        ...kept(status),
        state: 'needs-confirmation',
        reason: `${event.count} of ${event.of} tracked files would be deleted`,
        pendingDeletes: { count: event.count, of: event.of },
      };
    }
    default:
      return missingCase(event);
  }
}

/** A one-line human summary for the tray/status bar. */
export function describeSyncStatus(s: SyncStatus): string {
  switch (s.state) {
    case 'idle':
      return s.lastSyncAt === undefined ? 'Not synced yet' : 'Up to date';
    case 'scanning': {
      const p = s.progress;
      if (p === undefined || p.filesDone === 0) return 'Scanning…';
      const files = p.filesTotal > 0 ? `${p.filesDone}/${p.filesTotal}` : `${p.filesDone}`;
      return `Scanning: ${files} ${plural(p.filesTotal || p.filesDone, 'file')} checked`;
    }
    case 'syncing': {
      const p = s.progress;
      if (p === undefined) return 'Syncing…';
      const parts = [`Syncing ${p.filesDone}/${p.filesTotal} ${plural(p.filesTotal, 'file')}`];
      if (p.bytesPerSecond > 0) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
      if (p.etaSeconds !== null) parts.push(`about ${formatDuration(p.etaSeconds)} left`);
      return parts.join(', ');
    }
    case 'paused':
      return s.reason === undefined ? 'Paused' : `Paused: ${s.reason}`;
    case 'error':
      return s.reason === undefined ? 'Error' : `Error: ${s.reason}`;
    case 'needs-confirmation': {
      const d = s.pendingDeletes;
      if (d === undefined) return 'Waiting for confirmation';
      return `Waiting for confirmation: ${d.count} of ${d.of} ${plural(d.of, 'file')} would be deleted`;
    }
    default:
      return missingCase(s.state);
  }
}

/** Decimal units, as file managers show sizes: 3_100_000 → "3.1 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 0) return `−${formatBytes(-bytes)}`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // One decimal below 100 ("3.1 MB"), none above ("250 MB"); 99.96 would print as "100.0".
  const text = value < 99.95 ? value.toFixed(1) : Math.round(value).toString();
  return `${text} ${units[unit]}`;
}

/** A rough duration for "about … left": "8 s", "4 min", "2 h 5 min". */
export function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** The fields that survive every transition; the rest is rebuilt for the target state. */
function kept(status: SyncStatus): Pick<SyncStatus, 'recent' | 'lastSyncAt'> {
  return status.lastSyncAt === undefined
    ? { recent: status.recent }
    : { recent: status.recent, lastSyncAt: status.lastSyncAt };
}

function measure(
  startedAt: number,
  at: number,
  filesDone: number,
  filesTotal: number,
  bytesDone: number,
  bytesTotal: number,
): SyncProgress {
  const seconds = (at - startedAt) / 1000;
  // Out-of-order clocks (at before the start) give no rate rather than a negative one.
  const bytesPerSecond = seconds > 0 ? bytesDone / seconds : 0;
  // A total below what is done means the totals are stale or unknown, so no estimate.
  const etaSeconds =
    bytesPerSecond > 0 && bytesTotal > 0 && bytesTotal >= bytesDone ? (bytesTotal - bytesDone) / bytesPerSecond : null;
  return { filesDone, filesTotal, bytesDone, bytesTotal, bytesPerSecond, etaSeconds };
}

function checkCount(field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`sync status: ${field} must be a finite number >= 0, got ${String(value)}`);
  }
}

function checkTime(field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`sync status: ${field} must be a finite time in ms, got ${String(value)}`);
  }
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

function missingCase(x: never): never {
  throw new Error(`sync status: unhandled case ${JSON.stringify(x)}`);
}
