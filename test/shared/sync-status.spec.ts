/**
 * The sync status state machine: the full transition table (allowed and refused pairs), rate and
 * ETA from event times, the recent-activity cap, purity, the tray summaries and number validation.
 */
import { describe, expect, it } from 'vitest';
import {
  RECENT_LIMIT,
  SYNC_STATES,
  type SyncActivity,
  type SyncEvent,
  type SyncState,
  type SyncStatus,
  canTransition,
  describeSyncStatus,
  formatBytes,
  formatDuration,
  initialSyncStatus,
  nextSyncStatus,
} from '../../shared/sync-status.js';

type EventType = SyncEvent['type'];

const T0 = 1_764_000_000_000;

function activity(i: number, kind: SyncActivity['kind'] = 'changed'): SyncActivity {
  return { at: T0 + i, kind, path: `docs/file-${i}.txt` };
}

/** One sample of every event type; a Record so a new event type fails to compile here until added. */
const EVENTS: Record<EventType, SyncEvent> = {
  'scan-started': { type: 'scan-started', at: T0 + 10_000 },
  'sync-started': { type: 'sync-started', at: T0 + 10_000, filesTotal: 40, bytesTotal: 20_000_000 },
  progress: { type: 'progress', at: T0 + 12_000, filesDone: 12, bytesDone: 10_000_000 },
  activity: { type: 'activity', activity: activity(99, 'added') },
  completed: { type: 'completed', at: T0 + 20_000 },
  paused: { type: 'paused', reason: 'marker .pakit/folder-id is missing: is the drive unmounted?' },
  resumed: { type: 'resumed' },
  failed: { type: 'failed', reason: 'disk full' },
  'confirmation-needed': { type: 'confirmation-needed', count: 30, of: 40 },
  confirmed: { type: 'confirmed' },
};
const EVENT_TYPES = Object.keys(EVENTS) as EventType[];

/** The table from the spec, written out independently of the implementation. */
const ALLOWED: Record<SyncState, Partial<Record<EventType, SyncState>>> = {
  idle: {
    'scan-started': 'scanning',
    paused: 'paused',
    failed: 'error',
    'confirmation-needed': 'needs-confirmation',
    activity: 'idle',
  },
  scanning: {
    'sync-started': 'syncing',
    completed: 'idle',
    failed: 'error',
    paused: 'paused',
    'confirmation-needed': 'needs-confirmation',
    activity: 'scanning',
    progress: 'scanning',
  },
  syncing: {
    progress: 'syncing',
    activity: 'syncing',
    completed: 'idle',
    failed: 'error',
    paused: 'paused',
    'confirmation-needed': 'needs-confirmation',
  },
  paused: { resumed: 'idle', failed: 'error', activity: 'paused', paused: 'paused' },
  error: { 'scan-started': 'scanning', paused: 'paused', resumed: 'idle', activity: 'error', failed: 'error' },
  'needs-confirmation': {
    confirmed: 'idle',
    paused: 'paused',
    failed: 'error',
    activity: 'needs-confirmation',
    'scan-started': 'scanning',
  },
};

const progress = (filesDone: number, filesTotal: number, bytesDone: number, bytesTotal: number) => ({
  filesDone,
  filesTotal,
  bytesDone,
  bytesTotal,
  bytesPerSecond: 0,
  etaSeconds: null,
});

/** A representative status in each state, built by hand rather than by the machine under test. */
const FIXTURES: Record<SyncState, SyncStatus> = {
  idle: { state: 'idle', recent: [activity(1)], lastSyncAt: T0 },
  scanning: { state: 'scanning', recent: [], startedAt: T0 + 5_000, progress: progress(3, 0, 1000, 0) },
  syncing: {
    state: 'syncing',
    recent: [activity(2)],
    startedAt: T0 + 10_000,
    progress: progress(0, 40, 0, 20_000_000),
    lastSyncAt: T0,
  },
  paused: { state: 'paused', recent: [], reason: 'paused by the user' },
  error: { state: 'error', recent: [], reason: 'permission denied' },
  'needs-confirmation': {
    state: 'needs-confirmation',
    recent: [],
    reason: '30 of 40 tracked files would be deleted',
    pendingDeletes: { count: 30, of: 40 },
  },
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

const run = (events: readonly SyncEvent[], from: SyncStatus = initialSyncStatus()): SyncStatus =>
  events.reduce(nextSyncStatus, from);

describe('sync status transition table', () => {
  it('starts idle with no recent activity', () => {
    expect(initialSyncStatus()).toStrictEqual({ state: 'idle', recent: [] });
    // A fresh object each time, so one caller cannot affect another.
    expect(initialSyncStatus()).not.toBe(initialSyncStatus());
  });

  const pairs = SYNC_STATES.flatMap((state) => EVENT_TYPES.map((type) => [state, type] as const));
  const allowed = pairs.filter(([s, t]) => ALLOWED[s][t] !== undefined);
  const refused = pairs.filter(([s, t]) => ALLOWED[s][t] === undefined);

  it('covers every pair exactly once', () => {
    expect(pairs).toHaveLength(6 * 10);
    expect(allowed).toHaveLength(5 + 7 + 6 + 4 + 5 + 5);
  });

  it.each(allowed)('%s + %s goes to the listed state', (state, type) => {
    const before = deepFreeze(structuredClone(FIXTURES[state]));
    const after = nextSyncStatus(before, EVENTS[type]);
    expect(after.state).toBe(ALLOWED[state][type]);
    expect(canTransition(state, type)).toBe(true);
    // Invariants of the target state.
    expect(after.pendingDeletes !== undefined).toBe(after.state === 'needs-confirmation');
    if (after.state === 'scanning' || after.state === 'syncing') {
      expect(after.progress).toBeDefined();
    } else {
      expect(after.progress).toBeUndefined();
      expect(after.startedAt).toBeUndefined();
    }
    if (after.state === 'idle' || after.state === 'scanning' || after.state === 'syncing') {
      expect(after.reason).toBeUndefined();
    } else {
      expect(after.reason).toMatch(/\S/);
    }
    // lastSyncAt survives unless a completion replaces it.
    if (type === 'completed') expect(after.lastSyncAt).toBe(T0 + 20_000);
    else expect(after.lastSyncAt).toBe(before.lastSyncAt);
  });

  it.each(refused)('%s + %s throws InvalidSyncTransitionError naming both', (state, type) => {
    const before = deepFreeze(structuredClone(FIXTURES[state]));
    const err = thrown(() => nextSyncStatus(before, EVENTS[type]));
    expect(err.name).toBe('InvalidSyncTransitionError');
    expect((err as Error & { code: string }).code).toBe('ERR_SYNC_TRANSITION');
    expect(err.message).toContain(`"${state}"`);
    expect(err.message).toContain(`"${type}"`);
    expect(canTransition(state, type)).toBe(false);
  });

  it('refuses unknown states and events from untyped callers', () => {
    expect(canTransition('bogus' as SyncState, 'resumed')).toBe(false);
    expect(canTransition('idle', 'toString' as EventType)).toBe(false);
    expect(canTransition('toString' as SyncState, 'resumed')).toBe(false);
    const err = thrown(() => nextSyncStatus(initialSyncStatus(), { type: 'explode' } as unknown as SyncEvent));
    expect(err.name).toBe('InvalidSyncTransitionError');
  });

  it('clears the reason on leaving paused, error and needs-confirmation', () => {
    expect(nextSyncStatus(FIXTURES.paused, { type: 'resumed' })).toStrictEqual({ state: 'idle', recent: [] });
    expect(nextSyncStatus(FIXTURES.error, EVENTS['scan-started']).reason).toBeUndefined();
    const confirmed = nextSyncStatus(FIXTURES['needs-confirmation'], { type: 'confirmed' });
    expect(confirmed).toStrictEqual({ state: 'idle', recent: [] });
  });

  it('replaces the reason when paused again or failing again', () => {
    const paused = nextSyncStatus(FIXTURES.paused, { type: 'paused', reason: 'on battery' });
    expect(paused.reason).toBe('on battery');
    const failed = nextSyncStatus(FIXTURES.error, { type: 'failed', reason: 'still no disk' });
    expect(failed.reason).toBe('still no disk');
  });

  it('records pending deletions only in needs-confirmation', () => {
    const s = nextSyncStatus(FIXTURES.syncing, { type: 'confirmation-needed', count: 3, of: 7 });
    expect(s.pendingDeletes).toStrictEqual({ count: 3, of: 7 });
    expect(s.progress).toBeUndefined();
    const rescanned = nextSyncStatus(s, { type: 'scan-started', at: T0 + 30_000 });
    expect(rescanned.pendingDeletes).toBeUndefined();
    expect(rescanned.state).toBe('scanning');
  });
});

describe('sync status run: rate and ETA', () => {
  it('goes idle → scanning → syncing → progress… → completed → idle with rate and ETA from event times', () => {
    const start = T0 + 1_000;
    const scanning = run([{ type: 'scan-started', at: start - 500 }]);
    expect(scanning.state).toBe('scanning');

    const syncing = nextSyncStatus(scanning, {
      type: 'sync-started',
      at: start,
      filesTotal: 40,
      bytesTotal: 30_000_000,
    });
    expect(syncing.state).toBe('syncing');
    expect(syncing.progress).toStrictEqual({
      filesDone: 0,
      filesTotal: 40,
      bytesDone: 0,
      bytesTotal: 30_000_000,
      bytesPerSecond: 0,
      etaSeconds: null,
    });

    // 10 MB in 2 s → 5 MB/s; 20 MB left → 4 s.
    const p1 = nextSyncStatus(syncing, { type: 'progress', at: start + 2_000, filesDone: 12, bytesDone: 10_000_000 });
    expect(p1.state).toBe('syncing');
    expect(p1.progress?.filesDone).toBe(12);
    expect(p1.progress?.filesTotal).toBe(40);
    expect(p1.progress?.bytesPerSecond).toBeCloseTo(5_000_000, 6);
    expect(p1.progress?.etaSeconds).toBeCloseTo(4, 9);
    expect(describeSyncStatus(p1)).toBe('Syncing 12/40 files, 5.0 MB/s, about 4 s left');

    // The rate is over the whole run (from sync-started), not since the last event:
    // 25 MB in 5 s → 5 MB/s; a grown total of 45 MB leaves 20 MB → 4 s.
    const p2 = nextSyncStatus(p1, {
      type: 'progress',
      at: start + 5_000,
      filesDone: 30,
      bytesDone: 25_000_000,
      filesTotal: 45,
      bytesTotal: 45_000_000,
    });
    expect(p2.progress?.filesTotal).toBe(45);
    expect(p2.progress?.bytesTotal).toBe(45_000_000);
    expect(p2.progress?.bytesPerSecond).toBeCloseTo(5_000_000, 6);
    expect(p2.progress?.etaSeconds).toBeCloseTo(4, 9);

    // 45 MB in 8 s → 5.625 MB/s, nothing left.
    const p3 = nextSyncStatus(p2, { type: 'progress', at: start + 8_000, filesDone: 45, bytesDone: 45_000_000 });
    expect(p3.progress?.bytesPerSecond).toBeCloseTo(5_625_000, 6);
    expect(p3.progress?.etaSeconds).toBe(0);

    const done = nextSyncStatus(p3, { type: 'completed', at: start + 8_100 });
    expect(done).toStrictEqual({ state: 'idle', recent: [], lastSyncAt: start + 8_100 });
    expect(describeSyncStatus(done)).toBe('Up to date');
  });

  it('has no rate at zero elapsed time and no ETA without a byte total', () => {
    const s = run([
      { type: 'scan-started', at: T0 },
      { type: 'sync-started', at: T0, filesTotal: 3, bytesTotal: 0 },
    ]);
    const same = nextSyncStatus(s, { type: 'progress', at: T0, filesDone: 1, bytesDone: 100 });
    expect(same.progress?.bytesPerSecond).toBe(0);
    expect(same.progress?.etaSeconds).toBeNull();
    const later = nextSyncStatus(s, { type: 'progress', at: T0 + 1_000, filesDone: 1, bytesDone: 100 });
    expect(later.progress?.bytesPerSecond).toBe(100);
    expect(later.progress?.etaSeconds).toBeNull();
    // A clock that goes backwards gives no rate rather than a negative one.
    const back = nextSyncStatus(s, { type: 'progress', at: T0 - 1_000, filesDone: 1, bytesDone: 100 });
    expect(back.progress?.bytesPerSecond).toBe(0);
  });

  it('measures a new run from its own sync-started, not the previous one', () => {
    const first = run([
      { type: 'scan-started', at: T0 },
      { type: 'sync-started', at: T0, filesTotal: 1, bytesTotal: 1_000 },
      { type: 'completed', at: T0 + 60_000 },
      { type: 'scan-started', at: T0 + 100_000 },
      { type: 'sync-started', at: T0 + 101_000, filesTotal: 1, bytesTotal: 4_000 },
      { type: 'progress', at: T0 + 102_000, filesDone: 0, bytesDone: 2_000 },
    ]);
    expect(first.progress?.bytesPerSecond).toBe(2_000);
    expect(first.progress?.etaSeconds).toBe(1);
    expect(first.lastSyncAt).toBe(T0 + 60_000);
  });

  it('updates progress while scanning, keeping totals it has not been told about', () => {
    const s = run([
      { type: 'scan-started', at: T0 },
      { type: 'progress', at: T0 + 1_000, filesDone: 5, bytesDone: 4_000, filesTotal: 10, bytesTotal: 8_000 },
      { type: 'progress', at: T0 + 2_000, filesDone: 7, bytesDone: 6_000 },
    ]);
    expect(s.state).toBe('scanning');
    expect(s.progress).toMatchObject({ filesDone: 7, filesTotal: 10, bytesDone: 6_000, bytesTotal: 8_000 });
    expect(s.progress?.bytesPerSecond).toBe(3_000);
  });

  it('drops progress when pausing or failing mid-sync', () => {
    const s = run([
      { type: 'scan-started', at: T0 },
      { type: 'sync-started', at: T0, filesTotal: 1, bytesTotal: 1 },
    ]);
    for (const e of [EVENTS.paused, EVENTS.failed] as const) {
      const next = nextSyncStatus(s, e);
      expect(next.progress).toBeUndefined();
      expect(next.startedAt).toBeUndefined();
      expect(next.lastSyncAt).toBeUndefined();
    }
  });
});

describe('sync status recent activity', () => {
  it('keeps the newest RECENT_LIMIT entries, newest first', () => {
    expect(RECENT_LIMIT).toBe(50);
    let s = initialSyncStatus();
    for (let i = 0; i < 60; i++) s = nextSyncStatus(s, { type: 'activity', activity: activity(i) });
    expect(s.recent).toHaveLength(50);
    expect(s.recent[0]).toStrictEqual(activity(59));
    expect(s.recent[49]).toStrictEqual(activity(10));
    expect(s.recent.map((a) => a.at)).toStrictEqual(Array.from({ length: 50 }, (_, i) => T0 + 59 - i));
  });

  it('adds activity in every state without changing anything else', () => {
    for (const state of SYNC_STATES) {
      const before = FIXTURES[state];
      const after = nextSyncStatus(before, EVENTS.activity);
      expect(after).toStrictEqual({ ...before, recent: [activity(99, 'added'), ...before.recent] });
    }
  });
});

describe('sync status purity', () => {
  it('never mutates a deep-frozen input', () => {
    const recent = Array.from({ length: RECENT_LIMIT }, (_, i) => activity(i));
    const base: SyncStatus = deepFreeze({
      state: 'syncing',
      recent,
      startedAt: T0,
      progress: progress(1, 4, 1_000, 4_000),
      lastSyncAt: T0 - 1,
    });
    const snapshot = structuredClone(base);
    const events: SyncEvent[] = [
      EVENTS.activity,
      { type: 'progress', at: T0 + 1_000, filesDone: 2, bytesDone: 2_000, bytesTotal: 5_000 },
      EVENTS.completed,
      EVENTS.paused,
      EVENTS.failed,
      EVENTS['confirmation-needed'],
    ];
    for (const e of events) {
      const next = nextSyncStatus(base, e);
      expect(next).not.toBe(base);
    }
    expect(base).toStrictEqual(snapshot);
    const withActivity = nextSyncStatus(base, EVENTS.activity);
    expect(withActivity.recent).not.toBe(base.recent);
    expect(withActivity.recent).toHaveLength(RECENT_LIMIT);
  });
});

describe('describeSyncStatus', () => {
  it('summarises each state with its key facts', () => {
    expect(describeSyncStatus(initialSyncStatus())).toBe('Not synced yet');
    expect(describeSyncStatus(FIXTURES.idle)).toBe('Up to date');
    expect(describeSyncStatus({ state: 'scanning', recent: [] })).toBe('Scanning…');
    expect(describeSyncStatus(FIXTURES.scanning)).toBe('Scanning: 3 files checked');
    expect(describeSyncStatus(FIXTURES.syncing)).toBe('Syncing 0/40 files');
    expect(
      describeSyncStatus({
        state: 'syncing',
        recent: [],
        progress: { ...progress(12, 40, 0, 0), bytesPerSecond: 3_100_000, etaSeconds: 7.2 },
      }),
    ).toBe('Syncing 12/40 files, 3.1 MB/s, about 8 s left');
    expect(describeSyncStatus(nextSyncStatus(initialSyncStatus(), EVENTS.paused))).toBe(
      'Paused: marker .pakit/folder-id is missing: is the drive unmounted?',
    );
    expect(describeSyncStatus(FIXTURES.error)).toBe('Error: permission denied');
    expect(describeSyncStatus(nextSyncStatus(initialSyncStatus(), EVENTS['confirmation-needed']))).toBe(
      'Waiting for confirmation: 30 of 40 files would be deleted',
    );
  });

  it('returns a single line for every state', () => {
    for (const state of SYNC_STATES) {
      const text = describeSyncStatus(FIXTURES[state]);
      expect(text).not.toMatch(/[\r\n]/);
      expect(text.length).toBeGreaterThan(0);
    }
  });

  it('formats sizes and durations for humans', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_500)).toBe('1.5 kB');
    expect(formatBytes(250_000_000)).toBe('250 MB');
    expect(formatBytes(99_990_000)).toBe('100 MB');
    expect(formatBytes(2_000_000_000_000)).toBe('2.0 TB');
    expect(formatBytes(-19)).toBe('−19 B');
    expect(formatBytes(-5_000)).toBe('−5.0 kB');
    expect(formatDuration(0.2)).toBe('1 s');
    expect(formatDuration(59)).toBe('59 s');
    expect(formatDuration(240)).toBe('4 min');
    expect(formatDuration(3_600)).toBe('1 h');
    expect(formatDuration(2 * 3_600 + 5 * 60)).toBe('2 h 5 min');
  });
});

describe('sync status number validation', () => {
  const scanning = run([{ type: 'scan-started', at: T0 }]);
  const syncing = nextSyncStatus(scanning, { type: 'sync-started', at: T0, filesTotal: 1, bytesTotal: 1 });

  const bad: readonly (readonly [string, SyncStatus, SyncEvent])[] = [
    ['filesTotal', scanning, { type: 'sync-started', at: T0, filesTotal: -1, bytesTotal: 0 }],
    ['bytesTotal', scanning, { type: 'sync-started', at: T0, filesTotal: 0, bytesTotal: Infinity }],
    ['filesDone', syncing, { type: 'progress', at: T0, filesDone: NaN, bytesDone: 0 }],
    ['bytesDone', syncing, { type: 'progress', at: T0, filesDone: 0, bytesDone: -5 }],
    ['filesTotal', syncing, { type: 'progress', at: T0, filesDone: 0, bytesDone: 0, filesTotal: -Infinity }],
    ['bytesTotal', syncing, { type: 'progress', at: T0, filesDone: 0, bytesDone: 0, bytesTotal: -1 }],
    ['at', syncing, { type: 'progress', at: NaN, filesDone: 0, bytesDone: 0 }],
    ['at', initialSyncStatus(), { type: 'scan-started', at: Infinity }],
    ['at', syncing, { type: 'completed', at: NaN }],
    ['count', initialSyncStatus(), { type: 'confirmation-needed', count: -1, of: 4 }],
    ['of', initialSyncStatus(), { type: 'confirmation-needed', count: 0, of: NaN }],
    ['count', initialSyncStatus(), { type: 'confirmation-needed', count: 5, of: 4 }],
    ['activity.at', initialSyncStatus(), { type: 'activity', activity: { ...activity(1), at: NaN } }],
  ];

  it.each(bad)('throws a RangeError naming %s', (field, status, event) => {
    const err = thrown(() => nextSyncStatus(status, event));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toMatch(new RegExp(`\\b${field.replace('.', '\\.')}\\b`));
  });

  it('accepts zero counts', () => {
    expect(nextSyncStatus(scanning, { type: 'sync-started', at: T0, filesTotal: 0, bytesTotal: 0 }).state).toBe(
      'syncing',
    );
    expect(nextSyncStatus(initialSyncStatus(), { type: 'confirmation-needed', count: 0, of: 0 }).state).toBe(
      'needs-confirmation',
    );
  });
});
