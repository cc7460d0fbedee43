import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** Editor, office and OS scratch files, and partial downloads: never versioned. */
export const DEFAULT_IGNORES: readonly string[] = [
  '.pakit/',
  '~$*', // Microsoft Office lock files
  '.~lock.*#', // LibreOffice lock files
  '*.tmp',
  '*.temp',
  '*.swp',
  '*.swx',
  '*~',
  '.#*', // Emacs lock links
  '.DS_Store',
  '._*', // macOS resource forks on foreign file systems
  'Thumbs.db',
  'desktop.ini',
  '*.crdownload', // Chrome
  '*.part', // Firefox, wget
  '*.partial', // Safari … and others
  '*.download',
  '.*.pakit-*.tmp', // Pakit's own writes in progress
];

export const IGNORE_FILE = '.pakitignore';

/**
 * Which paths of a sync folder are left out: the defaults, then `.pakitignore` at the folder root
 * (gitignore syntax, through the `ignore` package). Paths are relative and '/'-separated;
 * directories may be tested with a trailing '/'.
 */
export class IgnoreRules {
  readonly #ig: Ignore;
  /** The patterns read from .pakitignore (empty when there is none). */
  readonly userPatterns: readonly string[];

  constructor(userPatterns: readonly string[] = []) {
    this.userPatterns = userPatterns;
    this.#ig = ignore().add([...DEFAULT_IGNORES, ...userPatterns]);
  }

  static load(root: string): IgnoreRules {
    let text = '';
    try {
      text = readFileSync(join(root, IGNORE_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return new IgnoreRules(text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#')));
  }

  ignores(relPath: string, isDir = false): boolean {
    return this.#ig.ignores(isDir ? `${relPath}/` : relPath);
  }
}
