// Finding a model from what a person typed: an id in the models folder (the user's, then the bundled ones),
// or a folder path. The one resolver behind restore, triage, evaluate, fine-tuning and the model library.
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import { bundledModelsDir, defaultModelsDir, looksLikePath } from '../../paths';
import { exists } from '../../fs-exists';
import { MODEL_JSON } from './model-io';
import { CARD_JSON } from './packages';

export interface ModelLookup {
  /** Folder of the user's model packages; default `STUDIO_HOME/models` (paths.defaultModelsDir). */
  modelsDir?: string;
  /** Folder of the bundled models; default `resources/models`. */
  bundledDir?: string;
}

export interface ModelRef {
  root: string;
  id: string;
  dir: string;
  /** A model shipped with the app (resources/models): it can be shown, used and exported, not changed. */
  bundled: boolean;
}

export function lookupRoots(lookup: ModelLookup = {}): { modelsDir: string; bundled: string } {
  return { modelsDir: resolve(lookup.modelsDir ?? defaultModelsDir()), bundled: resolve(lookup.bundledDir ?? bundledModelsDir()) };
}

/** A folder holding a model: a package (card.json) or a TensorFlow.js layers model (model.json). */
export async function isModelFolder(dir: string): Promise<boolean> {
  return (await exists(join(dir, MODEL_JSON))) || (await exists(join(dir, CARD_JSON)));
}

/** The ids of the model folders in a folder, sorted. */
export async function modelIds(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const ids: string[] = [];
  for (const name of names.sort()) {
    if (!name.startsWith('.') && (await isModelFolder(join(dir, name)))) ids.push(name);
  }
  return ids;
}

/**
 * The model a reference names. A path must exist; an id is a folder in the models folder, else a bundled
 * one (the user's hides a bundled model of the same id). Whether the folder holds a working model is for
 * the caller to check (a broken package can still be shown with its error, or deleted). MODEL_NOT_FOUND
 * names the folder looked in and the models there; `hint` says how to get one.
 */
export async function locateModel(spec: string, lookup: ModelLookup = {}, hint = ''): Promise<ModelRef> {
  if (looksLikePath(spec)) {
    const dir = resolve(spec);
    if (!(await exists(dir))) throw new StudioError('MODEL_NOT_FOUND', `There is no model folder at ${dir}.`);
    return { root: dirname(dir), id: basename(dir), dir, bundled: false };
  }
  const { modelsDir, bundled } = lookupRoots(lookup);
  if (await exists(join(modelsDir, spec))) return { root: modelsDir, id: spec, dir: join(modelsDir, spec), bundled: false };
  if (await exists(join(bundled, spec))) return { root: bundled, id: spec, dir: join(bundled, spec), bundled: true };
  const known = [...new Set([...(await modelIds(modelsDir)), ...(await modelIds(bundled))])];
  throw new StudioError(
    'MODEL_NOT_FOUND',
    `There is no model "${spec}" in ${modelsDir}${known.length ? ` (models: ${known.join(', ')})` : ' (no models are installed)'}.${hint ? ` ${hint}` : ''}`,
  );
}
