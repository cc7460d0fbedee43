import * as m001 from './001-initial.js';
import * as m002 from './002-sync-folders.js';
import * as m003 from './003-sync-latest.js';
import * as m004 from './004-anchors.js';
import * as m005 from './005-sync-dirs.js';
import * as m006 from './006-chunk-groups.js';
import * as m007 from './007-file-cache-keys.js';
import * as m008 from './008-log-leaves.js';
import * as m009 from './009-content-prefix.js';
import * as m010 from './010-block-hash-prefix.js';
import * as m011 from './011-file-cache-locality.js';
import * as m012 from './012-identity-index.js';
import * as m013 from './013-chunk-id-prefix.js';
import * as m014 from './014-implied-newest-edge.js';
import * as m015 from './015-identity-file.js';

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

/** Every schema version in order. Add one file per version; never edit a released one. */
export const migrations: readonly Migration[] = [
  m001,
  m002,
  m003,
  m004,
  m005,
  m006,
  m007,
  m008,
  m009,
  m010,
  m011,
  m012,
  m013,
  m014,
  m015,
];
