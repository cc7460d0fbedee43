/** Errors the archive raises; tests and the CLI match on `name`/`code`. */
export class ArchiveNotFoundError extends Error {
  override readonly name = 'ArchiveNotFoundError';
  readonly code = 'ERR_ARCHIVE_NOT_FOUND';
}

export class UnknownHashError extends Error {
  override readonly name = 'UnknownHashError';
  readonly code = 'ERR_UNKNOWN_HASH';
}

export class InvalidHashError extends Error {
  override readonly name = 'InvalidHashError';
  readonly code = 'ERR_INVALID_HASH';
}

export class ObjectCorruptError extends Error {
  override readonly name = 'ObjectCorruptError';
  readonly code = 'ERR_OBJECT_CORRUPT';
}

export class ReadOnlyArchiveError extends Error {
  override readonly name = 'ReadOnlyArchiveError';
  readonly code = 'ERR_READ_ONLY';
}

export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
  readonly code = 'ERR_UNSAFE_PATH';
}

export class NoCheckpointError extends Error {
  override readonly name = 'NoCheckpointError';
  readonly code = 'ERR_NO_CHECKPOINT';
}
