import { defaultDataDir, parseArgs, UsageError } from './args.js';
import { prestartIngestWorker } from '../store/prestart.js';
import { EXIT, processIo, type Io } from './io.js';

/** A command: its data directory (unused by `verify`), its arguments, the output. */
type CommandRun = (dir: string, rest: string[], io: Io) => Promise<number>;
interface Command {
  readonly run: CommandRun;
  readonly help: string;
}

/** A command's loader: imports its module, then picks the command out of it. */
const lazy =
  <M>(load: () => Promise<M>, pick: (m: M) => Command) =>
  async (): Promise<Command> =>
    pick(await load());
const store = () => import('./commands/store.js');
const read = () => import('./commands/read.js');
const proof = () => import('./commands/proof.js');
const check = () => import('./commands/check.js');
const sync = () => import('./commands/sync.js');
const anchor = () => import('./commands/anchor.js');
const serve = () => import('./commands/serve.js');

/**
 * Each command's module is imported only when that command runs (or its help is asked for): a
 * `pakit ls` need not load the server, the sync folder or the chain client first (about 170 ms of
 * module loading on this kind of machine). The global help lists them in this order.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  store: lazy(store, (m) => ({ run: m.storeCommand, help: m.storeHelp })),
  get: lazy(read, (m) => ({ run: m.getCommand, help: m.getHelp })),
  restore: lazy(read, (m) => ({ run: m.restoreCommand, help: m.restoreHelp })),
  ls: lazy(read, (m) => ({ run: m.lsCommand, help: m.lsHelp })),
  stats: lazy(read, (m) => ({ run: m.statsCommand, help: m.statsHelp })),
  proof: lazy(proof, (m) => ({ run: m.proofCommand, help: m.proofHelp })),
  verify: lazy(proof, (m) => ({ run: (_dir, rest, io) => m.verifyCommand(rest, io), help: m.verifyHelp })),
  check: lazy(check, (m) => ({ run: m.checkCommand, help: m.checkHelp })),
  checkpoint: lazy(check, (m) => ({ run: m.checkpointCommand, help: m.checkpointHelp })),
  sync: lazy(sync, (m) => ({ run: m.syncCommand, help: m.syncHelp })),
  versions: lazy(sync, (m) => ({ run: m.versionsCommand, help: m.versionsHelp })),
  log: lazy(sync, (m) => ({ run: m.logCommand, help: m.logHelp })),
  serve: lazy(serve, (m) => ({ run: m.serveCommand, help: m.serveHelp })),
  anchor: lazy(anchor, (m) => ({ run: m.anchorCommand, help: m.anchorHelp })),
  anchors: lazy(anchor, (m) => ({ run: m.anchorsCommand, help: m.anchorsHelp })),
};

/** The whole help text, with every command's own. */
async function globalHelp(): Promise<string> {
  const helps = await Promise.all(Object.values(COMMANDS).map(async (load) => (await load()).help));
  return `pakit — a verifiable archive: every object in a content-addressed DAG, provable offline.

Usage: pakit [--data DIR] <command> [options]

Global:
  --data DIR   the archive's data directory (default: $PAKIT_DATA, else ${defaultDataDir({})})
  --help       this text; \`pakit <command> --help\` for one command

Commands:
${helps.map((h) => `  ${h.replace(/\n/g, '\n  ')}`).join('\n\n')}

Exit codes: 0 ok, 1 verification or integrity failure, 2 bad usage or input.
Hashes are 64 lowercase hex digits.`;
}

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
      io.out(await globalHelp());
      return flags.help ? EXIT.ok : EXIT.usage;
    }
    const cmd = argv[cmdIndex]!;
    const rest = argv.slice(cmdIndex + 1);
    if (cmd === 'help') {
      io.out(await globalHelp());
      return EXIT.ok;
    }
    const load = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
    if (rest.includes('--help') || rest.includes('-h')) {
      if (!load) throw new UsageError(`unknown command ${cmd}`);
      io.out((await load()).help);
      return EXIT.ok;
    }
    if (!load) throw new UsageError(`unknown command ${JSON.stringify(cmd)} (try pakit --help)`);
    const dir = typeof flags.data === 'string' ? flags.data : defaultDataDir();
    // A store needs an ingest worker: one starts now and boots while the command's modules load.
    if (cmd === 'store') prestartIngestWorker();
    return await (await load()).run(dir, rest, io);
  } catch (e) {
    const err = e as Error & { code?: string };
    io.err(`pakit: ${err.message ?? String(e)}`);
    if (INPUT_ERRORS.has(err.name) || (err.code && INPUT_CODES.has(err.code))) return EXIT.usage;
    return EXIT.failed;
  }
}
