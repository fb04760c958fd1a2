/**
 * Where the tests look for the real, public data of ../shared/data (never committed: see
 * ../shared/data/NOTICE.md). READNEXT_SHARED_DIR overrides the folder, so the suite can be checked
 * as a fresh clone sees it (READNEXT_SHARED_DIR=/nonexistent). Tests that read this data are extras:
 * each one has a generated-data twin that always runs, and skips with a message when the file is absent.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The shared folder: $READNEXT_SHARED_DIR, else ../shared next to the repository. */
export const SHARED_DIR = process.env.READNEXT_SHARED_DIR || resolve(REPO_ROOT, '../shared');

/** The absolute path of a file under the shared folder (whether it exists or not). */
export const sharedPath = (relative: string): string => join(SHARED_DIR, relative);

/** The path when the file exists; otherwise null, after one warning naming what does not run. */
export function sharedFile(relative: string, what: string): string | null {
  const path = sharedPath(relative);
  if (existsSync(path)) return path;
  console.warn(`SKIP: ${path} is absent (set READNEXT_SHARED_DIR or put ../shared next to the repository); not running ${what}.`);
  return null;
}

export const WIKIPEDIA_ITEMS = 'data/wikipedia-current-events/items.jsonl';
