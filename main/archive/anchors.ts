import { type AnchorReceipt, receiptFromJson } from '../../shared/anchor.js';
import type { Db } from '../db/database.js';

export type AnchorState = 'queued' | 'anchored' | 'superseded';

/** One checkpoint on its way to a chain, or there. */
export interface AnchorRow {
  /** The checkpoint's log size (its key). */
  readonly size: number;
  readonly state: AnchorState;
  readonly queuedAt: number;
  readonly attempts: number;
  /** When the next attempt is due (ms since epoch), while queued. */
  readonly nextAttempt: number | null;
  readonly lastError: string | null;
  readonly endpoint: string | null;
  readonly receipt: AnchorReceipt | null;
  /** The fee paid, in the chain's smallest unit, as a decimal string. */
  readonly fee: string | null;
  /** The anchoring block's own timestamp (ms). */
  readonly chainTime: number | null;
  readonly anchoredAt: number | null;
}

interface Raw {
  size: number;
  state: AnchorState;
  queued_at: number;
  attempts: number;
  next_attempt: number | null;
  last_error: string | null;
  endpoint: string | null;
  receipt: string | null;
  fee: string | null;
  chain_time: number | null;
  anchored_at: number | null;
}

function fromRaw(r: Raw): AnchorRow {
  return {
    size: r.size,
    state: r.state,
    queuedAt: r.queued_at,
    attempts: r.attempts,
    nextAttempt: r.next_attempt,
    lastError: r.last_error,
    endpoint: r.endpoint,
    receipt: r.receipt === null ? null : receiptFromJson(JSON.parse(r.receipt)),
    fee: r.fee,
    chainTime: r.chain_time,
    anchoredAt: r.anchored_at,
  };
}

/** An anchor row as JSON for the CLI and the app: times as ISO strings. */
export function anchorJson(r: AnchorRow) {
  const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
  return {
    size: r.size,
    state: r.state,
    attempts: r.attempts,
    lastError: r.lastError,
    nextAttempt: iso(r.nextAttempt),
    queuedAt: new Date(r.queuedAt).toISOString(),
    endpoint: r.endpoint,
    receipt: r.receipt,
    fee: r.fee,
    chainTime: iso(r.chainTime),
  };
}

export interface AnchoredResult {
  readonly endpoint: string;
  readonly receipt: AnchorReceipt;
  readonly fee: bigint;
  readonly chainTime: number | null;
}

/**
 * The archive's anchor queue and receipts (table `anchors`). A checkpoint is queued before any
 * network traffic, so a chain that is down loses nothing; when a newer checkpoint is queued, the
 * older queued ones are superseded (the newer one covers their blocks), so one transaction anchors
 * everything that waited.
 */
export class AnchorStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Queues the checkpoint at `size` (it must exist) unless it is already queued or anchored. */
  queue(size: number, now: number): AnchorRow {
    this.#db.transaction(() => {
      this.#db
        .prepare('INSERT OR IGNORE INTO anchors (size, state, queued_at, next_attempt) VALUES (?, ?, ?, ?)')
        .run(size, 'queued', now, now);
      this.#db
        .prepare("UPDATE anchors SET state = 'superseded', next_attempt = NULL WHERE state = 'queued' AND size < ?")
        .run(size);
    })();
    return this.get(size)!;
  }

  get(size: number): AnchorRow | undefined {
    const r = this.#db.prepare('SELECT * FROM anchors WHERE size = ?').get(size) as Raw | undefined;
    return r && fromRaw(r);
  }

  /** The checkpoint waiting to be anchored, if any (only the newest is ever waiting). */
  pending(): AnchorRow | undefined {
    const r = this.#db.prepare("SELECT * FROM anchors WHERE state = 'queued' ORDER BY size DESC LIMIT 1").get() as
      Raw | undefined;
    return r && fromRaw(r);
  }

  failed(size: number, error: string, nextAttempt: number): void {
    this.#db
      .prepare(
        "UPDATE anchors SET attempts = attempts + 1, last_error = ?, next_attempt = ? WHERE size = ? AND state = 'queued'",
      )
      .run(error.slice(0, 1000), nextAttempt, size);
  }

  anchored(size: number, r: AnchoredResult, now: number): AnchorRow {
    this.#db
      .prepare(
        `UPDATE anchors SET state = 'anchored', attempts = attempts + 1, next_attempt = NULL, last_error = NULL,
           endpoint = ?, receipt = ?, fee = ?, chain_time = ?, anchored_at = ? WHERE size = ?`,
      )
      .run(r.endpoint, JSON.stringify(r.receipt), r.fee.toString(), r.chainTime, now, size);
    return this.get(size)!;
  }

  /** Newest first. */
  list(limit = 1000): AnchorRow[] {
    return (this.#db.prepare('SELECT * FROM anchors ORDER BY size DESC LIMIT ?').all(limit) as Raw[]).map(fromRaw);
  }

  latestAnchored(): AnchorRow | undefined {
    const r = this.#db.prepare("SELECT * FROM anchors WHERE state = 'anchored' ORDER BY size DESC LIMIT 1").get() as
      Raw | undefined;
    return r && fromRaw(r);
  }

  /** The first anchored checkpoint whose log includes leaf `seq`. */
  firstAnchoredCovering(seq: number): AnchorRow | undefined {
    const r = this.#db
      .prepare("SELECT * FROM anchors WHERE state = 'anchored' AND size > ? ORDER BY size LIMIT 1")
      .get(seq) as Raw | undefined;
    return r && fromRaw(r);
  }
}
