import { defaultDataDir, parseArgs, UsageError } from './args.js';
import { EXIT, processIo, type Io } from './io.js';
import { anchorCommand, anchorHelp, anchorsCommand, anchorsHelp } from './commands/anchor.js';
import { checkCommand, checkHelp, checkpointCommand, checkpointHelp } from './commands/check.js';
import { proofCommand, proofHelp, verifyCommand, verifyHelp } from './commands/proof.js';
import {
  getCommand,
  getHelp,
  lsCommand,
  lsHelp,
  restoreCommand,
  restoreHelp,
  statsCommand,
  statsHelp,
} from './commands/read.js';
import { serveCommand, serveHelp } from './commands/serve.js';
import { storeCommand, storeHelp } from './commands/store.js';
import { logCommand, logHelp, syncCommand, syncHelp, versionsCommand, versionsHelp } from './commands/sync.js';

const HELP = `pakit — a verifiable archive: every object in a content-addressed DAG, provable offline.

Usage: pakit [--data DIR] <command> [options]

Global:
  --data DIR   the archive's data directory (default: $PAKIT_DATA, else ${defaultDataDir({})})
  --help       this text; \`pakit <command> --help\` for one command

Commands:
${[
  storeHelp,
  getHelp,
  restoreHelp,
  lsHelp,
  statsHelp,
  proofHelp,
  verifyHelp,
  checkHelp,
  checkpointHelp,
  syncHelp,
  versionsHelp,
  logHelp,
  serveHelp,
  anchorHelp,
  anchorsHelp,
]
  .map((h) => `  ${h.replace(/\n/g, '\n  ')}`)
  .join('\n\n')}

Exit codes: 0 ok, 1 verification or integrity failure, 2 bad usage or input.
Hashes are 64 lowercase hex digits.`;

const HELPS: Record<string, string> = {
  store: storeHelp,
  get: getHelp,
  restore: restoreHelp,
  ls: lsHelp,
  stats: statsHelp,
  proof: proofHelp,
  verify: verifyHelp,
  check: checkHelp,
  checkpoint: checkpointHelp,
  sync: syncHelp,
  versions: versionsHelp,
  log: logHelp,
  serve: serveHelp,
  anchor: anchorHelp,
  anchors: anchorsHelp,
};

/** Error names that mean "the input was wrong" (exit 2) rather than "verification failed" (exit 1). */
const INPUT_ERRORS = new Set([
  'UsageError',
  'InvalidHashError',
  'UnknownHashError',
  'ArchiveNotFoundError',
  'ArchiveBusyError',
  'UnsafePathError',
  'NoCheckpointError',
  'ReadOnlyArchiveError',
  'RangeError',
  'SchemaVersionError',
  'SyncFolderError',
  'MarkerError',
  'NotInSyncFolderError',
  'NotAVersionError',
  'FileChangedError',
  'ChainConfigError',
  'SignerError',
]);
const INPUT_CODES = new Set(['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EPERM']);

export async function run(argv: readonly string[], io: Io = processIo): Promise<number> {
  try {
    // Global options come before the command; everything after it belongs to the command.
    const cmdIndex = argv.findIndex((a, i) => !a.startsWith('-') && argv[i - 1] !== '--data');
    const globalArgs = cmdIndex < 0 ? argv : argv.slice(0, cmdIndex);
    const { flags } = parseArgs(globalArgs, { data: 'string', help: 'boolean', version: 'boolean' }, { h: 'help' });
    if (flags.version) {
      const { SOFTWARE } = await import('../archive/archive.js');
      io.out(SOFTWARE);
      return EXIT.ok;
    }
    if (cmdIndex < 0) {
      io.out(HELP);
      return flags.help ? EXIT.ok : EXIT.usage;
    }
    const cmd = argv[cmdIndex]!;
    const rest = argv.slice(cmdIndex + 1);
    if (rest.includes('--help') || rest.includes('-h')) {
      const h = HELPS[cmd];
      if (!h) throw new UsageError(`unknown command ${cmd}`);
      io.out(h);
      return EXIT.ok;
    }
    const dir = typeof flags.data === 'string' ? flags.data : defaultDataDir();
    switch (cmd) {
      case 'store':
        return await storeCommand(dir, rest, io);
      case 'get':
        return await getCommand(dir, rest, io);
      case 'restore':
        return await restoreCommand(dir, rest, io);
      case 'ls':
        return await lsCommand(dir, rest, io);
      case 'stats':
        return await statsCommand(dir, rest, io);
      case 'proof':
        return await proofCommand(dir, rest, io);
      case 'verify':
        return await verifyCommand(rest, io);
      case 'check':
        return await checkCommand(dir, rest, io);
      case 'checkpoint':
        return await checkpointCommand(dir, rest, io);
      case 'sync':
        return await syncCommand(dir, rest, io);
      case 'versions':
        return await versionsCommand(dir, rest, io);
      case 'log':
        return await logCommand(dir, rest, io);
      case 'serve':
        return await serveCommand(dir, rest, io);
      case 'anchor':
        return await anchorCommand(dir, rest, io);
      case 'anchors':
        return await anchorsCommand(dir, rest, io);
      case 'help':
        io.out(HELP);
        return EXIT.ok;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd)} (try pakit --help)`);
    }
  } catch (e) {
    const err = e as Error & { code?: string };
    io.err(`pakit: ${err.message ?? String(e)}`);
    if (INPUT_ERRORS.has(err.name) || (err.code && INPUT_CODES.has(err.code))) return EXIT.usage;
    return EXIT.failed;
  }
}
