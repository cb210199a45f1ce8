/**
 * Reads a directory file from disk and parses it (the I/O edge of the
 * directory module).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { HotdeskError } from '../core/errors.js';
import type { Directory } from './directory-types.js';
import { parseDirectory, type ParseDirectoryOptions } from './parse-directory.js';

/** Reads and validates the directory file at `path` (messages name its base name). */
export function loadDirectoryFile(path: string, options: ParseDirectoryOptions = {}): Directory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new HotdeskError('not-found', `cannot read directory file ${basename(path)}`, { file: path }, { cause: e });
  }
  return parseDirectory(text, basename(path), options);
}
