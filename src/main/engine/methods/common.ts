// Shared plumbing of the engine's methods: parameter parsing, model and dataset references, the training data
// fingerprint.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { StudioError } from '#shared/rpc/errors';
import { badInput } from '#shared/rpc/server';
import { PackageIdSchema } from '#shared/model-card';
import { dataDir, defaultModelsDir, looksLikePath } from '../../paths';
import { exists } from '../../fs-exists';

export { exists };
import { openDataset, resolvePreset, type Dataset, type DegradationRecipe } from '../data/index';
import { slugify } from '../package/index';

/** Parses job parameters (the contract has already done so for RPC callers; direct callers get the same errors). */
export function parseParams<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw badInput(what, parsed.error.issues);
  return parsed.data;
}

export function modelsRoot(modelsDir?: string): string {
  return resolve(modelsDir ?? defaultModelsDir());
}

function asId(text: string): string {
  return PackageIdSchema.safeParse(text).success ? text : slugify(text);
}

export interface TrainOutput {
  /** Folder holding the package folder. */
  root: string;
  /** Package id (its folder name). */
  id: string;
  /** The package folder. */
  dir: string;
  name: string;
  /** Checkpoints, samples and run.json of the run writing this output. */
  workDir: string;
}

/**
 * Where a training run writes: `out` as a path is the package folder itself (its last part, made a valid id,
 * is the id); `out` as a plain name is a package in the models folder. The run folder is derived from the
 * package folder, so the same `out` finds the same checkpoints on resume.
 */
export function resolveTrainOutput(params: { out: string; name?: string; modelsDir?: string; workDir?: string }): TrainOutput {
  let root: string;
  let base: string;
  if (looksLikePath(params.out)) {
    const full = resolve(params.out);
    root = dirname(full);
    base = basename(full);
  } else {
    root = modelsRoot(params.modelsDir);
    base = params.out.trim();
  }
  const id = asId(base);
  const dir = join(root, id);
  const workDir = params.workDir
    ? resolve(params.workDir)
    : join(dataDir(), 'training', `${id}-${createHash('sha256').update(dir).digest('hex').slice(0, 8)}`);
  return { root, id, dir, name: params.name ?? base, workDir };
}

export interface TrainingData {
  dataset: Dataset;
  /** Degradation recipe for clean-only datasets. */
  recipe: DegradationRecipe | undefined;
}

/** Opens a dataset folder; a clean-only folder needs a synthesis preset, a paired one must not get one. */
export async function openJobData(data: string, synth: string | undefined): Promise<TrainingData> {
  const dataset = await openDataset(data);
  if (dataset.kind === 'clean') {
    if (!synth) {
      throw new StudioError(
        'BAD_INPUT',
        `${dataset.root} holds clean images only (no degraded/ and clean/ folders); give a synthesis preset (e.g. gaussian:25, jpeg:30, old-photo) to make the degraded inputs.`,
      );
    }
    return { dataset, recipe: await resolvePreset(synth) };
  }
  if (synth) {
    throw new StudioError(
      'BAD_INPUT',
      `${dataset.root} is a paired dataset (degraded/ and clean/); a synthesis preset applies only to folders of clean images.`,
    );
  }
  return { dataset, recipe: undefined };
}

/**
 * Fingerprint of the training data: the dataset layout, every file's relative path, size and modification
 * time, the degradation recipe and the split settings. Cheap on any dataset size (no pixels are read); it
 * changes when a file is added, removed or edited.
 */
export async function dataFingerprint(
  dataset: Dataset,
  extras: { recipe?: DegradationRecipe; seed: number; validationFraction: number },
): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ kind: dataset.kind, recipe: extras.recipe ?? null, seed: extras.seed, val: extras.validationFraction }));
  const describe = async (path: string): Promise<string> => {
    try {
      const info = await stat(path);
      return `${info.size}:${Math.round(info.mtimeMs)}`;
    } catch {
      return 'missing';
    }
  };
  for (const item of dataset.items) {
    hash.update(`\n${item.id}|${await describe(item.clean)}`);
    if (item.degraded) hash.update(`|${basename(item.degraded)}|${await describe(item.degraded)}`);
  }
  return `sha256:${hash.digest('hex').slice(0, 32)}`;
}

/** Combines abort signals (AbortSignal.any where available). */
export function anySignal(signals: (AbortSignal | undefined)[]): AbortSignal {
  const list = signals.filter((s): s is AbortSignal => s !== undefined);
  if (list.length === 1) return list[0]!;
  const any = (AbortSignal as unknown as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  if (any) return any(list);
  const controller = new AbortController();
  for (const s of list) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}
