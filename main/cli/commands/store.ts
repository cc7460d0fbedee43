import { Archive } from '../../archive/archive.js';
import type { StoreResult } from '../../archive/store-ops.js';
import { parseArgs, UsageError } from '../args.js';
import { EXIT, type Io } from '../io.js';

export const storeHelp = `pakit store PATH... [--json]
  Stores files and directories (recursively). Prints "<hash>  <path>" per file, and for each
  directory a last line "<snapshot-hash>  <dir>/". Unchanged files are found by size and mtime.`;

export async function storeCommand(dir: string, argv: string[], io: Io): Promise<number> {
  const { positional, flags } = parseArgs(argv, { json: 'boolean' });
  if (positional.length === 0) throw new UsageError('store needs at least one PATH');
  const archive = await Archive.open({ dir });
  const results: StoreResult[] = [];
  let problems = 0;
  try {
    const summary = await archive.store(positional, {
      onResult: (r) => {
        if (flags.json) results.push(r);
        else io.out(`${r.hash}  ${r.path}`);
      },
      onProblem: (p) => {
        problems++;
        io.err(`pakit: cannot store ${p.path}: ${p.code}: ${p.message}`);
      },
    });
    archive.checkpoint();
    if (flags.json) io.out(JSON.stringify(results, null, 2));
    if (problems > 0) {
      io.err(`pakit: stored ${summary.results.length} object(s); ${problems} path(s) could not be stored`);
      return EXIT.usage;
    }
    return EXIT.ok;
  } finally {
    await archive.close();
  }
}
