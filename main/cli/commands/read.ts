import { resolve } from 'node:path';
import { Archive } from '../../archive/archive.js';
import { parseArgs, UsageError } from '../args.js';
import { EXIT, type Io } from '../io.js';
import { restoreVersion } from '../../sync/versions.js';

export const getHelp = `pakit get HASH [-o FILE]
  Writes the object's original bytes to stdout or FILE (every chunk verified; FILE appears only
  when all of it was verified).`;

export async function getCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, { output: 'string' }, { o: 'output' });
  if (positional.length !== 1) throw new UsageError('get needs exactly one HASH');
  const archive = await Archive.open({ dir, readonly: true });
  try {
    const b = archive.block(positional[0]!);
    if (b.header.kind === 'genesis') throw new UsageError('the genesis block has no content');
    if (typeof flags.output === 'string') {
      await archive.writeTo(positional[0]!, resolve(flags.output));
      return EXIT.ok;
    }
    for await (const chunk of archive.read(positional[0]!)) {
      if (!io.stdout.write(chunk)) await new Promise((r) => io.stdout.once('drain', r));
    }
    return EXIT.ok;
  } finally {
    await archive.close();
  }
}

export const restoreHelp = `pakit restore HASH --to DIR
  Restores a snapshot (the whole tree) or one file into DIR; refuses names that would escape DIR.
pakit restore PATH --version HASH [--to DEST]
  Puts one version of a path in a sync folder back in place (never over a change not yet synced),
  or writes it to DEST (a new file, or into a directory).`;

export async function restoreCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, { to: 'string', json: 'boolean', version: 'string' });
  if (typeof flags.version === 'string') {
    if (positional.length !== 1) throw new UsageError('restore --version needs exactly one PATH');
    const archive = await Archive.open({ dir, readonly: true });
    try {
      const r = await restoreVersion(
        archive,
        positional[0]!,
        flags.version,
        typeof flags.to === 'string' ? flags.to : undefined,
      );
      io.out(flags.json ? JSON.stringify(r) : `restored ${r.size} bytes to ${r.path}`);
      return EXIT.ok;
    } finally {
      await archive.close();
    }
  }
  if (positional.length !== 1) throw new UsageError('restore needs exactly one HASH');
  if (typeof flags.to !== 'string') throw new UsageError('restore needs --to DIR');
  const archive = await Archive.open({ dir, readonly: true });
  try {
    const s = await archive.restore(positional[0]!, resolve(flags.to));
    for (const w of s.warnings) io.err(`pakit: warning: ${w}`);
    if (flags.json) io.out(JSON.stringify(s));
    else
      io.out(
        `restored ${s.files} file(s), ${s.dirs} dir(s), ${s.symlinks} symlink(s), ${s.bytes} bytes into ${flags.to}`,
      );
    return EXIT.ok;
  } finally {
    await archive.close();
  }
}

export const lsHelp = `pakit ls [--json]
  Lists stored objects (oldest first): hash, kind, size, stored size, time, name.`;

export async function lsCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, { json: 'boolean' });
  if (positional.length) throw new UsageError('ls takes no arguments');
  const archive = await Archive.open({ dir, readonly: true });
  try {
    const rows = [];
    for (const b of archive.objects()) {
      const h = b.header;
      const row = {
        hash: b.hash.toString('hex'),
        kind: h.kind,
        name: h.meta.name ?? '',
        size: h.size,
        storedSize: h.storedSize,
        time: new Date(h.timestamp).toISOString(),
        depth: h.depth,
      };
      if (flags.json) rows.push(row);
      else io.out(`${row.hash}  ${row.kind.padEnd(8)} ${String(row.size).padStart(12)} ${row.time}  ${row.name}`);
    }
    if (flags.json) io.out(JSON.stringify(rows, null, 2));
    return EXIT.ok;
  } finally {
    await archive.close();
  }
}

export const statsHelp = `pakit stats [--json]
  Objects, blocks, chunks, depth, tips, original and stored bytes, dedup and compression savings.`;

export async function statsCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, { json: 'boolean' });
  if (positional.length) throw new UsageError('stats takes no arguments');
  const archive = await Archive.open({ dir, readonly: true });
  try {
    const s = archive.stats();
    if (flags.json) io.out(JSON.stringify(s, null, 2));
    else
      for (const [k, v] of Object.entries(s))
        io.out(`${k.padEnd(22)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v}`);
    return EXIT.ok;
  } finally {
    await archive.close();
  }
}
