/**
 * Schema version 4: chain anchors (main/chain). A checkpoint to anchor is queued here first, so a
 * chain that is down loses nothing; the receipt is stored with it once the block is final.
 */
export const version = 4;

export const sql = `
CREATE TABLE anchors (
  size INTEGER PRIMARY KEY REFERENCES checkpoints(size),
  state TEXT NOT NULL CHECK (state IN ('queued', 'anchored', 'superseded')),
  queued_at INTEGER NOT NULL,     -- ms since epoch
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER,           -- ms since epoch, while queued
  last_error TEXT,
  endpoint TEXT,                  -- where it was anchored
  receipt TEXT,                   -- JSON (shared/anchor.ts AnchorReceipt), once anchored
  fee TEXT,                       -- the fee paid, in the chain's smallest unit (decimal)
  chain_time INTEGER,             -- the block's timestamp, ms
  anchored_at INTEGER,            -- when the receipt was stored, ms
  CHECK ((state = 'anchored') = (receipt IS NOT NULL))
) STRICT;

CREATE INDEX anchors_by_state ON anchors (state, size);
`;
