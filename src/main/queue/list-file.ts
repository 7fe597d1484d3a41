// `studio queue add <list-file>`: a text file naming one photo per line, for batches that are not one folder
// (a catalogue export, `find … > list.txt`). Blank lines and # comments are skipped; relative paths are read
// from the list's own folder, so a list works from wherever the command is run.
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import { isImageFileName } from '../engine/data/image';

/** A listed line that is not queued, and why (a sentence naming it). */
export interface SkippedEntry {
  line: number;
  path: string;
  reason: string;
}

export interface PhotoList {
  /** Absolute photo paths, in the list's order, without repeats. */
  inputs: string[];
  /** The deepest folder holding every listed photo: outputs mirror the paths below it. */
  root: string;
  skipped: SkippedEntry[];
}

/** The deepest folder that contains every one of the (absolute) paths. */
export function commonFolder(paths: string[]): string {
  let parts = dirname(paths[0]!).split(sep);
  for (const path of paths.slice(1)) {
    const other = dirname(path).split(sep);
    let same = 0;
    while (same < parts.length && same < other.length && parts[same] === other[same]) same++;
    parts = parts.slice(0, same);
  }
  return parts.join(sep) || sep;
}

export async function readPhotoList(listFile: string): Promise<PhotoList> {
  let text: string;
  try {
    text = await readFile(listFile, 'utf8');
  } catch (error) {
    throw new StudioError('NOT_FOUND', `Cannot read the list file ${listFile}: ${(error as Error).message}.`);
  }
  const base = dirname(listFile);
  const inputs: string[] = [];
  const seen = new Set<string>();
  const skipped: SkippedEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const entry = lines[i]!.trim();
    if (entry === '' || entry.startsWith('#')) continue;
    const path = isAbsolute(entry) ? entry : resolve(base, entry);
    const skip = (reason: string): void => void skipped.push({ line: i + 1, path: entry, reason });
    const info = await stat(path).catch(() => null);
    if (!info) skip(`${entry} (line ${i + 1} of ${listFile}) does not exist`);
    else if (!info.isFile()) skip(`${entry} (line ${i + 1} of ${listFile}) is not a file`);
    else if (!isImageFileName(path)) skip(`${entry} (line ${i + 1} of ${listFile}) is not a photo type the studio reads`);
    else if (!seen.has(path)) {
      seen.add(path);
      inputs.push(path);
    }
  }
  return { inputs, root: inputs.length > 0 ? commonFolder(inputs) : base, skipped };
}
