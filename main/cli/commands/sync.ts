import { Archive } from '../../archive/archive.js';
import { SyncDb } from '../../sync/sync-db.js';
import { SyncFolder, type SyncSummary } from '../../sync/sync-folder.js';
import { listVersions } from '../../sync/versions.js';
import { describeSyncStatus } from '../../../shared/sync-status.js';
import { parseArgs, UsageError } from '../args.js';
import { EXIT, untilStopped, type Io } from '../io.js';

export const syncHelp = `pakit sync FOLDER [--once] [--json] [--rescan MINUTES] [--settle MS]
                [--confirm-deletes] [--reset-marker] [--device NAME]
  Keeps FOLDER in the archive: every change becomes a new version of its path and every sync a
  snapshot block. Without --once it watches the folder (and rescans it every hour) until stopped.
  --once            scan, store what changed, exit; --json prints the summary
  --confirm-deletes record a sync that deletes more than half of the folder (normally held back)
  --reset-marker    the folder's .pakit/folder-id is gone but this is the right folder: recreate it
  Exit: 0 synced; 1 not synced (marker missing, deletions waiting for confirmation); 2 some files
  could not be read (the rest was synced).`;

function summaryLine(root: string, s: SyncSummary): string {
  const mb = (s.bytes / 1e6).toFixed(1);
  return `synced ${root}: ${s.added} added, ${s.changed} changed, ${s.deleted} deleted, ${s.renamed} renamed, ${s.unchanged} unchanged; ${mb} MB in ${s.seconds.toFixed(2)} s${s.snapshot ? `; snapshot ${s.snapshot}` : ''}`;
}

export async function syncCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, {
    once: 'boolean',
    json: 'boolean',
    rescan: 'number',
    settle: 'number',
    'confirm-deletes': 'boolean',
    'reset-marker': 'boolean',
    device: 'string',
  });
  if (positional.length !== 1) throw new UsageError('sync needs exactly one FOLDER');
  if (flags.rescan === 0) throw new UsageError('--rescan must be at least 1 minute');
  const archive = await Archive.open({ dir });
  let folder: SyncFolder | undefined;
  try {
    folder = SyncFolder.open({
      archive,
      root: positional[0]!,
      resetMarker: flags['reset-marker'] === true,
      ...(typeof flags.device === 'string' ? { device: flags.device } : {}),
      ...(typeof flags.settle === 'number' ? { settleMs: flags.settle } : {}),
      ...(typeof flags.rescan === 'number' ? { rescanMs: flags.rescan * 60_000 } : {}),
    });
    if (flags['confirm-deletes']) folder.confirmDeletes();
    if (flags.once) {
      const s = await folder.syncUntilSettled();
      for (const p of s.problems) io.err(`pakit: cannot sync ${p.path}: ${p.code}: ${p.message}`);
      if (flags.json) io.out(JSON.stringify({ folder: folder.root, ...s }, null, 2));
      else io.out(summaryLine(folder.root, s));
      if (s.state !== 'idle') {
        io.err(`pakit: ${describeSyncStatus(folder.status)}`);
        return EXIT.failed;
      }
      return s.problems.length > 0 ? EXIT.usage : EXIT.ok;
    }
    const f = folder;
    let last = '';
    f.onStatus((st) => {
      const line = describeSyncStatus(st);
      if (line !== last && st.state !== 'syncing' && st.state !== 'scanning') io.err(`pakit: ${line}`);
      last = line;
    });
    f.onActivity((a) =>
      io.out(`${a.kind.padEnd(8)} ${a.hash ?? '-'.padEnd(64)}  ${a.path}${a.detail ? `  (${a.detail})` : ''}`),
    );
    await f.watch();
    io.err(`pakit: watching ${f.root} (Ctrl-C to stop)`);
    await untilStopped();
    return EXIT.ok;
  } finally {
    await folder?.close();
    // Sign what was synced (returns the newest checkpoint when it already covers everything).
    archive.checkpoint();
    await archive.close();
  }
}

export const versionsHelp = `pakit versions PATH [--json]
  Lists every version of a path in a sync folder, oldest first: "<hash>  <time>  <size>", or
  "<hash>  <time>  deleted" (the hash of the snapshot that recorded the deletion).`;

export async function versionsCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, { json: 'boolean' });
  if (positional.length !== 1) throw new UsageError('versions needs exactly one PATH');
  const archive = await Archive.open({ dir, readonly: true });
  try {
    const { versions } = listVersions(archive, positional[0]!);
    const rows = versions.map((v) => ({
      hash: v.hash,
      time: new Date(v.ts).toISOString(),
      ...(v.deleted ? { deleted: true } : { size: v.size }),
      origin: v.origin,
    }));
    if (flags.json) io.out(JSON.stringify(rows, null, 2));
    else
      for (const r of rows)
        io.out(
          `${r.hash}  ${r.time}  ${'deleted' in r ? 'deleted' : String(r.size)}${r.origin === 'local' ? '' : `  from ${r.origin}`}`,
        );
    return EXIT.ok;
  } finally {
    await archive.close();
  }
}

export const logHelp = `pakit log [FOLDER] [--json]
  The history of sync folders: one line per sync that changed anything, oldest first:
  "<snapshot-hash>  <time>  +added ~changed -deleted".`;

export async function logCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, { json: 'boolean' });
  if (positional.length > 1) throw new UsageError('log takes at most one FOLDER');
  const archive = await Archive.open({ dir, readonly: true });
  try {
    const db = new SyncDb(archive.ctx.db);
    let folders = db.folders();
    if (positional.length === 1) {
      const { realpathSync } = await import('node:fs');
      const { resolve } = await import('node:path');
      let root = resolve(positional[0]!);
      try {
        root = realpathSync(root);
      } catch {
        // an unmounted folder is still listed by the path it had
      }
      folders = folders.filter((f) => f.root === root);
      if (folders.length === 0) throw new UsageError(`${positional[0]} is not a sync folder of this archive`);
    }
    const out = folders.map((f) => ({
      folder: f.root,
      id: f.id,
      snapshots: db.snapshots(f.id).map((s) => ({ ...s, time: new Date(s.ts).toISOString() })),
    }));
    if (flags.json) io.out(JSON.stringify(out, null, 2));
    else
      for (const f of out) {
        if (out.length > 1) io.out(`# ${f.folder}`);
        for (const s of f.snapshots) io.out(`${s.hash}  ${s.time}  +${s.added} ~${s.changed} -${s.deleted}`);
      }
    return EXIT.ok;
  } finally {
    await archive.close();
  }
}
