export class SyncFolderError extends Error {
  override readonly name = 'SyncFolderError';
  readonly code = 'ERR_SYNC_FOLDER';
}
