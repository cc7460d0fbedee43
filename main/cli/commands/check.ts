import { Archive } from '../../archive/archive.js';
import { parseArgs, UsageError } from '../args.js';
import { EXIT, type Io } from '../io.js';

export const checkHelp = `pakit check [--json] [--quick]
  Verifies the whole archive: block hashes, parents and depths, the Merkle log, checkpoint
  signatures, object chunk lists and (unless --quick) every chunk's bytes. Exit 1 on any problem.`;

export async function checkCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, { json: 'boolean', quick: 'boolean' });
  if (positional.length) throw new UsageError('check takes no arguments');
  const archive = await Archive.open({ dir, readonly: true });
  try {
    const r = await archive.check({ quick: !!flags.quick });
    if (flags.json) io.out(JSON.stringify(r, null, 2));
    else {
      for (const p of r.problems) io.out(`${p.what} ${p.id}: ${p.detail}`);
      io.out(
        `${r.ok ? 'ok' : 'FAILED'}: ${r.blocks} blocks, ${r.chunks} chunks, ${r.checkpoints} checkpoints, ${r.problems.length} problem(s)`,
      );
    }
    return r.ok ? EXIT.ok : EXIT.failed;
  } finally {
    await archive.close();
  }
}

export const checkpointHelp = `pakit checkpoint [--json]
  Signs a checkpoint over every block now (no-op when the newest already covers them all).`;

export async function checkpointCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, { json: 'boolean' });
  if (positional.length) throw new UsageError('checkpoint takes no arguments');
  const archive = await Archive.open({ dir });
  try {
    const c = archive.checkpoint();
    const { checkpointToJson } = await import('../../../shared/checkpoint.js');
    const j = checkpointToJson(c);
    io.out(flags.json ? JSON.stringify(j, null, 2) : `${j.root}  size ${j.size}`);
    return EXIT.ok;
  } finally {
    await archive.close();
  }
}
