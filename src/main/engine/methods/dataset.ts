// The engine's dataset work: checking a folder (decoding every photo, hashing for duplicates), showing its
// train/validation split, synthesising a paired folder, and the wizard's preview of a preset. In the engine
// process, so the window's process never decodes a photo; every face reaches them through the contract.
import { join } from 'node:path';
import type { DatasetCheckEvent, DatasetCheckParams, SplitReport, SynthEvent, SynthRunParams } from '#shared/dataset';
import { StudioError } from '#shared/rpc/errors';
import { dataDir } from '../../paths';
import { checkDataset, resolvePreset, scanDataset, splitDataset, synthesizeFolder } from '../data/index';
import { synthPreview } from '../data/synth/preview';

interface StreamContext<E> {
  signal: AbortSignal;
  emit(event: E): void;
}

export async function datasetCheckJob(params: DatasetCheckParams, ctx: StreamContext<DatasetCheckEvent>): Promise<void> {
  const { report } = await checkDataset(params.dir, {
    minSize: params.minSize,
    signal: ctx.signal,
    onProgress: (done, total) => ctx.emit({ type: 'progress', done, total }),
  });
  ctx.emit({ type: 'done', report });
}

export async function datasetSplit(params: { dir: string; valFraction: number; seed: number }): Promise<SplitReport> {
  const { dataset } = await scanDataset(params.dir);
  if (dataset.items.length === 0) {
    throw new StudioError(dataset.kind === 'paired' ? 'DATASET_UNPAIRED' : 'DATASET_EMPTY', `${dataset.root} has nothing to split.`);
  }
  const split = splitDataset(dataset.items, { valFraction: params.valFraction, seed: params.seed });
  return { seed: params.seed, valFraction: params.valFraction, train: split.train.map((i) => i.id), val: split.val.map((i) => i.id) };
}

export async function synthJob(params: SynthRunParams, ctx: StreamContext<SynthEvent>): Promise<void> {
  const recipe = await resolvePreset(params.preset);
  const report = await synthesizeFolder(params.input, params.out, {
    recipe,
    preset: params.preset,
    seed: params.seed,
    ...(params.limit !== undefined ? { limit: params.limit } : {}),
    signal: ctx.signal,
    onSkip: (file, reason) => ctx.emit({ type: 'skipped', file, reason }),
    onProgress: (done, total) => ctx.emit({ type: 'progress', done, total }),
  });
  ctx.emit({ type: 'done', report });
}

/** Previews land in the data folder, which the image route serves. */
export function synthPreviewJob(input: { dir: string; preset: string; seed: number; size: number }): ReturnType<typeof synthPreview> {
  return synthPreview(join(dataDir(), 'previews'), input);
}
