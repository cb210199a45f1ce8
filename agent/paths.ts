/**
 * Where the agent's shipped data lives (templates, firmware profiles, examples),
 * whether it runs from TypeScript sources (tests) or from `dist/` (built CLI).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'firmware-profiles'))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(start, '..', '..');
    dir = up;
  }
}

/** The project root (the directory holding package.json). */
export const PROJECT_ROOT: string = findRoot(dirname(fileURLToPath(import.meta.url)));
export const TEMPLATES_DIR: string = join(PROJECT_ROOT, 'provisioning-templates');
export const PROFILES_DIR: string = join(PROJECT_ROOT, 'firmware-profiles');
export const EXAMPLES_DIR: string = join(PROJECT_ROOT, 'examples');
