import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Archive } from '../../../main/archive/archive.js';
import { KnownChunks } from '../../../main/store/known-chunks.js';
import type { IngestWorkerData } from '../../../main/store/ingest-protocol.js';
import { DEFAULT_CHUNKER } from '../../../main/store/index.js';
import { tempDir } from '../../helpers/tmp.js';

function init(dbFile: string | undefined): IngestWorkerData {
  return {
    params: DEFAULT_CHUNKER,
    zstdLevel: 3,
    dbFile,
    niceness: 0,
    commits: new Int32Array(new SharedArrayBuffer(4)),
    snapshotMaxAgeMs: 1_000,
    snapshotIdleMs: 200,
    groupBytes: 0,
  };
}

describe('KnownChunks (an ingest worker asks whether a chunk is stored)', () => {
  const archives: Archive[] = [];
  afterEach(async () => {
    for (const a of archives.splice(0)) await a.close();
  });

  it('hands every input the same lookup function, so the pipeline options keep one shape', async () => {
    const dir = tempDir();
    archives.push(await Archive.open({ dir }));
    const known = new KnownChunks(init(join(dir, 'archive.db')));
    const first = known.lookup();
    expect(first).toBeTypeOf('function');
    expect(known.lookup()).toBe(first);
    expect(first!(randomBytes(32))).toBe(false);
  });

  it('has no lookup without an archive to ask', () => {
    expect(new KnownChunks(init(undefined)).lookup()).toBeUndefined();
  });
});
