/** Where the local stack keeps its files: state under .data/, tools under .tools/, builds in the user cache. */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'aiops-runbooks') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the aiops-runbooks project above ${start}`);
    dir = parent;
  }
}

export const ROOT = findRoot(resolve(__dirname));
export const DATA_DIR = process.env.AIOPS_DATA_DIR ? resolve(process.env.AIOPS_DATA_DIR) : join(ROOT, '.data');
export const LOG_DIR = join(DATA_DIR, 'logs');
export const RUN_DIR = join(DATA_DIR, 'run');
export const TOOLS_BIN = join(ROOT, '.tools', 'bin');
/** Built tools and Maven classpaths survive clones here, keyed by version. */
export const CACHE_DIR = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'aiops-runbooks');

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
