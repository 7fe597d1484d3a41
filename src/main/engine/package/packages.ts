// Model packages: one folder per model in a models directory,
//   <root>/<id>/card.json    the model card (src/shared/model-card.ts)
//   <root>/<id>/model.json   tfjs layers model topology + weights manifest
//   <root>/<id>/weights.bin  weights
// Saved atomically (temporary folder, then rename). Loading validates everything and reports a broken or
// foreign package as StudioError('MODEL_INVALID') naming the file and the problem.
import * as tfl from '@tensorflow/tfjs-layers';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import {
  MODEL_CARD_FORMAT_VERSION,
  ModelCardSchema,
  PackageIdSchema,
  type HyperParams,
  type ModelCard,
  type ModelTask,
  type PackageListing,
} from '#shared/model-card';
import { getArchitecture, isArchitectureId } from '../models/index';
import { countMacs } from '../models/macs';
import type { TrainResult } from '../train/train';
import { isTemporaryName, writeDirAtomic, writeFileAtomic } from '../../fs-atomic';
import { exists } from '../../fs-exists';
import { loadModelFiles, MODEL_JSON, readArtifacts, saveModelFiles, WEIGHTS_BIN } from './model-io';

export const CARD_JSON = 'card.json';

export interface CardInput {
  name: string;
  /** Folder name; default: derived from the name, made unique in the models directory. */
  id?: string;
  /** A zoo id (hyper-parameters resolved against its defaults) or 'external'. */
  architecture: { id: string; hyper?: Partial<HyperParams>; channels?: number };
  restores?: { preset: string | null; description: string };
  training?: ModelCard['training'];
  source?: ModelCard['source'];
  task?: ModelTask;
  createdAt?: string;
}

export interface LoadedPackage {
  id: string;
  dir: string;
  card: ModelCard;
  /** The caller disposes it. */
  model: tfl.LayersModel;
}

/** A folder-safe id from a display name. */
export function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9_]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 60)
    .replace(/[-_]+$/g, '');
  return slug || 'model';
}


/** `base`, or base-2, base-3 ... whichever is free in `root`. */
export async function uniqueId(root: string, base: string): Promise<string> {
  let id = base;
  for (let n = 2; await exists(join(root, id)); n++) id = `${base}-${n}`;
  return id;
}

function checkId(id: string): string {
  const parsed = PackageIdSchema.safeParse(id);
  if (!parsed.success) throw new StudioError('BAD_INPUT', `"${id}" cannot be a model id: ${parsed.error.issues[0]?.message ?? 'invalid'}.`);
  return parsed.data;
}

function inputShape(model: tfl.LayersModel): (number | null)[] {
  return (model.inputs[0]?.shape ?? []) as (number | null)[];
}

/** The card of a model about to be saved: counts, architecture facts and the caller's description. */
export function createCard(model: tfl.LayersModel, input: CardInput & { id: string }): ModelCard {
  const shape = inputShape(model);
  const channels = input.architecture.channels ?? (typeof shape[3] === 'number' ? shape[3] : 3);
  let architecture: ModelCard['architecture'];
  let macsPerPixel: number | null = null;
  let task: ModelTask = input.task ?? 'restore';
  if (isArchitectureId(input.architecture.id)) {
    const arch = getArchitecture(input.architecture.id);
    const hyper = arch.resolve(input.architecture.hyper);
    architecture = {
      id: arch.id,
      hyper,
      channels,
      requiredMultiple: arch.requiredMultiple(hyper),
      padsInternally: arch.padsInternally,
    };
    macsPerPixel = arch.macsPerPixel(hyper, { channels });
    task = arch.task;
  } else {
    architecture = {
      id: input.architecture.id,
      hyper: (input.architecture.hyper ?? {}) as HyperParams,
      channels,
      requiredMultiple: 1,
      padsInternally: false,
    };
    const [, h, w] = shape;
    if (typeof h === 'number' && typeof w === 'number') macsPerPixel = countMacs(model, h, w);
  }
  const card: ModelCard = {
    formatVersion: MODEL_CARD_FORMAT_VERSION,
    id: input.id,
    name: input.name,
    task,
    architecture,
    restores: input.restores ?? { preset: null, description: '' },
    training: input.training ?? null,
    createdAt: input.createdAt ?? new Date().toISOString(),
    params: model.countParams(),
    macsPerPixel,
    source: input.source ?? (input.training ? 'trained' : 'untrained'),
  };
  return validateCard(card, '(new card)');
}

/** The card's training section from a training run's result. */
export function trainingSection(result: TrainResult, extras: { dataFingerprint?: string | null } = {}): NonNullable<ModelCard['training']> {
  return {
    dataFingerprint: extras.dataFingerprint ?? null,
    recipe: result.recipe as unknown as Record<string, unknown>,
    history: result.history,
    finalMetrics: result.finalMetrics,
    backend: result.backend,
    seconds: result.seconds,
    stopReason: result.status,
  };
}

function validateCard(raw: unknown, where: string): ModelCard {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new StudioError('MODEL_INVALID', `${CARD_JSON} in ${where} is not a JSON object.`);
  }
  const version = (raw as { formatVersion?: unknown }).formatVersion;
  if (typeof version !== 'number') {
    throw new StudioError('MODEL_INVALID', `${CARD_JSON} in ${where} has no formatVersion; it is not a Restoration Studio model card.`);
  }
  if (version !== MODEL_CARD_FORMAT_VERSION) {
    throw new StudioError(
      'MODEL_INVALID',
      `${CARD_JSON} in ${where} has format version ${version}; this version of Restoration Studio reads version ${MODEL_CARD_FORMAT_VERSION}` +
        (version > MODEL_CARD_FORMAT_VERSION ? ' (the package was written by a newer version).' : '.'),
    );
  }
  const parsed = ModelCardSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StudioError(
      'MODEL_INVALID',
      `${CARD_JSON} in ${where} is invalid: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown problem'}.`,
      { issues: parsed.error.issues },
    );
  }
  return parsed.data;
}

/** Reads and validates card.json of a package folder. */
export async function readCard(dir: string): Promise<ModelCard> {
  let text: string;
  try {
    text = await readFile(join(dir, CARD_JSON), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!(await exists(dir))) throw new StudioError('MODEL_NOT_FOUND', `There is no model package at ${dir}.`);
      throw new StudioError('MODEL_INVALID', `${CARD_JSON} is missing in ${dir}.`);
    }
    throw new StudioError('MODEL_INVALID', `${CARD_JSON} in ${dir} cannot be read: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new StudioError('MODEL_INVALID', `${CARD_JSON} in ${dir} is not valid JSON: ${(error as Error).message}`);
  }
  return validateCard(raw, dir);
}

/** Writes a package folder atomically. Refuses to replace an existing package unless `overwrite`. */
async function writePackage(dir: string, model: tfl.LayersModel, card: ModelCard, overwrite: boolean): Promise<void> {
  if (!overwrite && (await exists(dir))) {
    throw new StudioError('OUTPUT_UNWRITABLE', `A model package already exists at ${dir}.`);
  }
  await writeDirAtomic(
    dir,
    async (tmp) => {
      await saveModelFiles(model, tmp);
      await writeFileAtomic(join(tmp, CARD_JSON), JSON.stringify(card, null, 2));
    },
    { replace: overwrite },
  );
}

/** Saves a model as a package in the models directory `root`. */
export async function savePackage(
  root: string,
  model: tfl.LayersModel,
  input: CardInput,
  options: { overwrite?: boolean } = {},
): Promise<{ id: string; dir: string; card: ModelCard }> {
  const id = input.id ? checkId(input.id) : await uniqueId(root, slugify(input.name));
  const card = createCard(model, { ...input, id });
  const dir = join(root, id);
  await writePackage(dir, model, card, options.overwrite ?? false);
  return { id, dir, card };
}

/** Loads a package folder: card, model files, and a model whose parameter count matches the card. */
export async function loadPackageDir(dir: string): Promise<LoadedPackage> {
  const card = await readCard(dir);
  const model = await loadModelFiles(dir);
  const params = model.countParams();
  if (params !== card.params) {
    model.dispose();
    throw new StudioError('MODEL_INVALID', `${CARD_JSON} in ${dir} says ${card.params} parameters but ${MODEL_JSON} has ${params}.`);
  }
  const id = dir.split(/[\\/]/).filter(Boolean).pop() ?? card.id;
  return { id, dir, card, model };
}

export async function loadPackage(root: string, id: string): Promise<LoadedPackage> {
  return loadPackageDir(join(root, checkId(id)));
}

/** Checks a package without keeping the model: card, files and that the model builds. */
export async function verifyPackage(dir: string): Promise<ModelCard> {
  const loaded = await loadPackageDir(dir);
  loaded.model.dispose();
  return loaded.card;
}

/** Every package folder in `root` (sorted by id); broken ones carry their error instead of a card. */
export async function listPackages(root: string): Promise<PackageListing[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: PackageListing[] = [];
  for (const name of names.sort()) {
    if (isTemporaryName(name)) continue;
    const dir = join(root, name);
    if (!(await stat(dir)).isDirectory()) continue;
    try {
      const card = await readCard(dir);
      if (!(await exists(join(dir, MODEL_JSON)))) throw new StudioError('MODEL_INVALID', `${MODEL_JSON} is missing in ${dir}.`);
      out.push({ id: name, dir, card, error: null });
    } catch (error) {
      out.push({ id: name, dir, card: null, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return out;
}

/** Changes a package's display name (its id and folder stay), and its licence text when given. */
export async function renamePackage(root: string, id: string, name: string, extras: { license?: string | null } = {}): Promise<ModelCard> {
  const dir = join(root, checkId(id));
  const card = await readCard(dir);
  const trimmed = name.trim();
  const license = extras.license === undefined ? {} : { license: extras.license?.trim() || null };
  const next = validateCard({ ...card, name: trimmed, ...license }, dir);
  await writeFileAtomic(join(dir, CARD_JSON), JSON.stringify(next, null, 2));
  return next;
}

export async function deletePackage(root: string, id: string): Promise<void> {
  const dir = join(root, checkId(id));
  if (!(await exists(dir))) throw new StudioError('MODEL_NOT_FOUND', `There is no model "${id}" in ${root}.`);
  await rm(dir, { recursive: true, force: true });
}

/** Copies a loaded model into a new package in `root` (used by imports). */
export async function addPackage(root: string, model: tfl.LayersModel, card: ModelCard, preferredId?: string): Promise<{ id: string; dir: string; card: ModelCard }> {
  const id = await uniqueId(root, checkId(preferredId ?? card.id));
  const next = validateCard({ ...card, id, params: model.countParams() }, '(imported card)');
  const dir = join(root, id);
  await writePackage(dir, model, next, false);
  return { id, dir, card: next };
}

/** Guesses the task of a foreign model: image in, image of the same channels out → restore. */
export function guessTask(model: tfl.LayersModel): ModelTask {
  const input = inputShape(model);
  const output = (model.outputs[0]?.shape ?? []) as (number | null)[];
  return input.length === 4 && output.length === 4 && input[3] === output[3] ? 'restore' : 'classify';
}

export { MODEL_JSON, WEIGHTS_BIN, readArtifacts };
