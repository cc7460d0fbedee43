/**
 * The one contract between main and the renderer, typed once: method name → request schema and
 * response type, and main → renderer push events. The Electron preload and the WebSocket bridge
 * of `pakit serve` are both built from these keys; no channel name is written twice.
 *
 * Every call answers with an envelope, never a thrown error: Electron's ipcMain.handle carries
 * only `message` across, and the bridge carries JSON.
 */
import { z as zod } from 'zod';
import { ANCHOR_ARGS, type AnchorReceipt, type ChainFacts } from './anchor.js';
import type { SyncStatus } from './sync-status.js';

/** The most entries one `sync.files` call returns. */
export const FILES_PAGE_MAX = 1000;
/** The most blocks one `archive.blocks` call returns. */
export const BLOCKS_PAGE_MAX = 1000;
/** The most points one `archive.history` call returns. */
export const HISTORY_POINTS_MAX = 500;

/**
 * zod, handed to each request schema's builder. The schemas are built in main, on a method's first
 * call; the renderer needs only the method names, so zod stays out of its bundle (building every
 * schema took about a quarter of the page's first task).
 */
type Zod = typeof zod;

const hash64 = (z: Zod) => z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex digits');
const chainHash = (z: Zod) => z.string().regex(/^0x[0-9a-f]{64}$/, 'expected 0x and 64 lowercase hex digits');

/** Request schemas, by method: every inbound payload is parsed with its schema in main before a handler runs. */
export const requestSchemas = {
  'node.status': (z) => z.object({}).strict(),
  'archive.stats': (z) => z.object({}).strict(),
  /** One page of the blocks, newest first: offset 0 is the newest block, total - 1 is genesis. */
  'archive.blocks': (z) =>
    z.object({ offset: z.number().int().nonnegative(), limit: z.number().int().min(1).max(BLOCKS_PAGE_MAX) }).strict(),
  /** The archive's growth from genesis to now, in at most `points` points evenly spaced in time. */
  'archive.history': (z) => z.object({ points: z.number().int().min(2).max(HISTORY_POINTS_MAX) }).strict(),
  'archive.proof': (z) => z.object({ hash: hash64(z), chunk: z.number().int().nonnegative().optional() }).strict(),
  /** Desktop app only: files dropped on the window, archived from where they are. */
  'archive.storePaths': (z) => z.object({ paths: z.array(z.string().min(1).max(4096)).min(1).max(1000) }).strict(),
  'sync.pause': (z) => z.object({ reason: z.string().max(200).optional() }).strict(),
  'sync.resume': (z) => z.object({}).strict(),
  'sync.versions': (z) => z.object({ path: z.string().min(1).max(4096) }).strict(),
  /** One page of the folder's files (a list of 100,000 is never sent whole). */
  'sync.files': (z) =>
    z
      .object({
        offset: z.number().int().nonnegative(),
        limit: z.number().int().min(1).max(FILES_PAGE_MAX),
        filter: z.string().max(200).optional(),
      })
      .strict(),
  /** One page of a directory of the sync folder ('' is its root): subdirectories first, then files. */
  'sync.dir': (z) =>
    z
      .object({
        dir: z.string().max(4096),
        offset: z.number().int().nonnegative(),
        limit: z.number().int().min(1).max(FILES_PAGE_MAX),
      })
      .strict(),
  'settings.get': (z) => z.object({}).strict(),
  /** Makes `path` the sync folder (kept across restarts; `--folder` on the command line wins). */
  'settings.setFolder': (z) => z.object({ path: z.string().min(1).max(4096) }).strict(),
  'settings.setIgnore': (z) =>
    z
      .object({
        patterns: z
          .array(
            z
              .string()
              .max(1000)
              .regex(/^[^\n\r]*$/, 'one pattern per entry'),
          )
          .max(1000),
      })
      .strict(),
  'sync.restore': (z) => z.object({ path: z.string().min(1).max(4096), hash: hash64(z) }).strict(),
  'chain.status': (z) => z.object({}).strict(),
  'chain.anchors': (z) => z.object({ limit: z.number().int().min(1).max(1000) }).strict(),
  'chain.anchorNow': (z) => z.object({}).strict(),
  /** Reads a receipt's block from the configured chain; the renderer's verifier judges the answer. */
  'chain.read': (z) =>
    z
      .object({
        receipt: z
          .object({
            chain: chainHash(z),
            block: chainHash(z),
            blockNumber: z.number().int().nonnegative(),
            extrinsicIndex: z.number().int().nonnegative(),
            signer: z.string().regex(/^0x(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'expected an account id (0x hex)'),
            call: z.string().max(200),
            args: z.array(z.enum(ANCHOR_ARGS)).min(1).max(8),
          })
          .strict(),
      })
      .strict(),
  /** Chain settings; `suri` (a signer's secret URI) is held in memory only, never saved. */
  'settings.setChain': (z) =>
    z
      .object({
        enabled: z.boolean(),
        endpoint: z.string().max(2000),
        call: z.string().max(200),
        args: z.array(z.enum(ANCHOR_ARGS)).min(1).max(8),
        everyMinutes: z
          .number()
          .int()
          .min(1)
          .max(7 * 24 * 60),
        everyBlocks: z.number().int().min(1).max(10_000_000),
        suri: z.string().min(1).max(1000).optional(),
      })
      .strict(),
} satisfies Record<string, (z: Zod) => zod.ZodType>;

export type Method = keyof typeof requestSchemas;
export type Request<M extends Method> = zod.infer<ReturnType<(typeof requestSchemas)[M]>>;

export interface NodeStatus {
  readonly version: string;
  readonly archiveId: string;
  readonly dataDir: string;
  /** The sync folder's root and status, when one is configured. */
  readonly sync: { readonly root: string; readonly status: SyncStatus } | null;
}

export interface ArchiveStatsView {
  readonly objects: number;
  readonly blocks: number;
  readonly chunks: number;
  readonly originalBytes: number;
  readonly storedBytes: number;
  readonly maxDepth: number;
}

export interface FileView {
  /** relative to the sync folder, '/'-separated */
  readonly path: string;
  readonly versions: number;
  readonly deleted: boolean;
  readonly size: number;
  readonly storedSize: number;
}

/** An entry of a directory: a subdirectory (with how many live files lie beneath) or a file. */
export type DirEntryView =
  | { readonly kind: 'dir'; readonly name: string; readonly path: string; readonly files: number }
  | ({ readonly kind: 'file'; readonly name: string } & FileView);

export interface ReceiptView {
  readonly name: string;
  readonly hash: string;
  readonly size: number;
  readonly storedSize: number;
}

export interface BlockView {
  readonly hash: string;
  readonly seq: number;
  readonly kind: string;
  readonly depth: number;
  readonly time: string;
  readonly size: number;
  readonly storedSize: number;
  readonly name: string;
  /** Parent block hashes (the DAG's links). */
  readonly parents: readonly string[];
  /** The parents' log positions, in the same order. */
  readonly parentSeqs: readonly number[];
}

/** The archive after some number of blocks, cumulative from genesis (main/archive/growth-history.ts). */
export interface GrowthPointView {
  readonly seq: number;
  readonly time: string;
  readonly blocks: number;
  /** Original bytes of every object version. */
  readonly originalBytes: number;
  /** Raw bytes of the distinct chunks: what is left after dedup. */
  readonly uniqueBytes: number;
  /** Bytes in the store: what is left after dedup and compression. */
  readonly storedBytes: number;
}

export interface SettingsView {
  readonly dataDir: string;
  readonly folder: string | null;
  /** The folder's .pakitignore patterns (gitignore syntax). */
  readonly ignorePatterns: readonly string[];
  /** Always ignored, whatever .pakitignore says. */
  readonly defaultIgnores: readonly string[];
  /** Where the folder comes from: the command line (`--folder`, which wins), the settings file, or none. */
  readonly folderSource: 'command-line' | 'settings' | 'none';
  /** Why the saved folder is not in use (it could not be opened at start), if so. */
  readonly folderProblem: string | null;
  readonly chain: ChainSettingsView;
}

/** Chain settings as Settings shows them (no secret ever leaves main). */
export interface ChainSettingsView {
  readonly enabled: boolean;
  readonly endpoint: string;
  readonly call: string;
  readonly args: readonly (typeof ANCHOR_ARGS)[number][];
  readonly everyMinutes: number;
  readonly everyBlocks: number;
  /** The signer's account id, when a signer is loaded. */
  readonly signer: string | null;
}

/** One checkpoint on its way to the chain, or there. */
export interface AnchorView {
  readonly size: number;
  readonly state: 'queued' | 'anchored' | 'superseded';
  readonly attempts: number;
  readonly lastError: string | null;
  readonly nextAttempt: string | null;
  readonly queuedAt: string;
  /** Where it was anchored (or is being tried). */
  readonly endpoint: string | null;
  readonly receipt: AnchorReceipt | null;
  /** The fee paid, in the chain's smallest unit (decimal string). */
  readonly fee: string | null;
  /** The anchoring block's timestamp (ISO). */
  readonly chainTime: string | null;
}

export interface ChainStatusView {
  /** off: anchoring disabled; no-signer: enabled without a key; waiting: queued, retrying. */
  readonly state: 'off' | 'no-signer' | 'idle' | 'anchoring' | 'waiting';
  readonly endpoint: string | null;
  readonly signer: string | null;
  readonly pending: AnchorView | null;
  readonly last: AnchorView | null;
}

export interface VersionView {
  readonly hash: string;
  readonly time: string;
  readonly deleted: boolean;
  readonly size: number;
  readonly origin: string;
}

/** Response types, method by method. */
export interface Responses {
  'node.status': NodeStatus;
  'archive.stats': ArchiveStatsView & {
    readonly tips: number;
    readonly compressionRatio: number;
    readonly dedupSavedBytes: number;
    readonly compressionSavedBytes: number;
  };
  /** `items` are the blocks at [offset, offset + limit) counted from the newest; `total` counts them all. */
  'archive.blocks': { readonly total: number; readonly offset: number; readonly items: readonly BlockView[] };
  'archive.history': { readonly points: readonly GrowthPointView[] };
  /** A proof document (docs/FORMATS.md), verified in the renderer with shared/verify.ts. */
  'archive.proof': unknown;
  'archive.storePaths': { readonly receipts: readonly ReceiptView[]; readonly problems: readonly ErrorInfo[] };
  'sync.pause': null;
  'sync.resume': null;
  'sync.versions': readonly VersionView[];
  /** `total` counts every file matching the filter; `items` are [offset, offset + limit) of them. */
  'sync.files': { readonly total: number; readonly offset: number; readonly items: readonly FileView[] };
  /** `total` counts subdirectories and files; the first `dirs` of the whole listing are subdirectories. */
  'sync.dir': {
    readonly dir: string;
    readonly total: number;
    readonly dirs: number;
    readonly offset: number;
    readonly items: readonly DirEntryView[];
  };
  'settings.get': SettingsView;
  'settings.setIgnore': SettingsView;
  'settings.setFolder': SettingsView;
  'sync.restore': { readonly path: string; readonly size: number };
  'chain.status': ChainStatusView;
  /** Newest first. */
  'chain.anchors': readonly AnchorView[];
  'chain.anchorNow': AnchorView;
  'chain.read': ChainFacts;
  'settings.setChain': SettingsView;
}

/** Main → renderer push events. */
export interface Events {
  'sync.status': SyncStatus;
  /** The node's status changed other than by a sync (another sync folder). */
  'node.status': NodeStatus;
  'chain.status': ChainStatusView;
}
export type EventName = keyof Events;
export const EVENT_NAMES: readonly EventName[] = ['sync.status', 'node.status', 'chain.status'];
export const METHODS = Object.keys(requestSchemas) as Method[];

export interface ErrorInfo {
  readonly name: string;
  readonly code: string;
  readonly message: string;
}
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ErrorInfo };

/** What main implements; the compiler checks every method of the contract is there. */
export type Handlers = { readonly [M in Method]: (req: Request<M>) => Promise<Responses[M]> | Responses[M] };

/** The renderer's view: one async function per method (preload and bridge client build it). */
export type PakitApi = { readonly [M in Method]: (req: Request<M>) => Promise<Result<Responses[M]>> };

export class UnknownMethodError extends Error {
  override readonly name = 'UnknownMethodError';
  readonly code = 'ERR_UNKNOWN_METHOD';
}

export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  readonly code = 'ERR_INVALID_REQUEST';
}

export function isMethod(m: unknown): m is Method {
  return typeof m === 'string' && Object.prototype.hasOwnProperty.call(requestSchemas, m);
}

export function errorInfo(e: unknown): ErrorInfo {
  const err = e as { name?: unknown; code?: unknown; message?: unknown };
  return {
    name: typeof err?.name === 'string' ? err.name : 'Error',
    code: typeof err?.code === 'string' ? err.code : 'ERR_INTERNAL',
    message: typeof err?.message === 'string' ? err.message : String(e),
  };
}

const built = new Map<Method, zod.ZodType>();
/** A method's request schema, built on its first call. */
function requestSchema(method: Method): zod.ZodType {
  let schema = built.get(method);
  if (!schema) built.set(method, (schema = requestSchemas[method](zod)));
  return schema;
}

/**
 * Validates and runs one call: an unknown method or a payload that does not match its schema gets
 * a typed error naming what was wrong, and the handler never runs.
 */
export async function dispatch(handlers: Handlers, method: unknown, payload: unknown): Promise<Result<unknown>> {
  if (!isMethod(method))
    return { ok: false, error: errorInfo(new UnknownMethodError(`unknown method ${JSON.stringify(method)}`)) };
  const parsed = requestSchema(method).safeParse(payload ?? {});
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const where = first.path.length > 0 ? first.path.join('.') : 'payload';
    return {
      ok: false,
      error: errorInfo(new InvalidRequestError(`${method}: ${where}: ${first.message}`)),
    };
  }
  try {
    const handler = handlers[method] as (req: unknown) => Promise<unknown> | unknown;
    return { ok: true, value: await handler(parsed.data) };
  } catch (e) {
    return { ok: false, error: errorInfo(e) };
  }
}
