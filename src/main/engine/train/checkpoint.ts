// Training checkpoints: one folder per finished epoch, written atomically (temporary folder, then rename):
//   <checkpointsDir>/epoch-0003/
//     model.json + weights.bin        the model after epoch 3
//     optimizer.json + optimizer.bin  Adam's state (iteration count, first and second moments) in variable order
//     best.json + best.bin            weights of the best validation epoch so far (when any)
//     discriminator/, disc-optimizer  GAN fine-tuning only
//     state.json                      epoch, global step, history, early-stopping state, elapsed time, recipe
// Resuming picks the highest complete epoch folder. Older folders are pruned after a new one lands.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { StudioError } from '#shared/rpc/errors';
import { EpochRecordSchema, TrainRecipeSchema } from '#shared/model-card';
import { writeDirAtomic } from '../../fs-atomic';
import { loadModelFiles, readNamedWeights, saveModelFiles, writeNamedWeights } from '../package/model-io';

export const CHECKPOINT_FORMAT = 1;
const STATE_FILE = 'state.json';
const NAME = /^epoch-(\d{4,})$/;

export const CheckpointStateSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  /** Epochs finished. */
  epoch: z.number().int().nonnegative(),
  /** Optimizer steps taken. */
  globalStep: z.number().int().nonnegative(),
  history: z.array(EpochRecordSchema),
  bestEpoch: z.number().int().positive().nullable(),
  /** The monitored validation value at bestEpoch (PSNR, or loss for the classifier). */
  bestScore: z.number().nullable(),
  /** Epochs since the last improvement (early stopping). */
  badEpochs: z.number().int().nonnegative(),
  /** Training seconds so far. */
  elapsed: z.number().nonnegative(),
  recipe: TrainRecipeSchema,
  hasBest: z.boolean(),
  hasDiscriminator: z.boolean(),
  backend: z.string(),
  savedAt: z.string(),
});
export type CheckpointState = z.infer<typeof CheckpointStateSchema>;

export interface CheckpointWrite {
  model: tfl.LayersModel;
  optimizer: tf.Optimizer;
  state: CheckpointState;
  /** Best-epoch weight values in model.getWeights() order. */
  best: tf.Tensor[] | null;
  discriminator?: { model: tfl.LayersModel; optimizer: tf.Optimizer } | null;
}

export interface CheckpointRead {
  dir: string;
  model: tfl.LayersModel;
  optimizerWeights: NamedTensor[];
  best: tf.Tensor[] | null;
  discriminator: { model: tfl.LayersModel; optimizerWeights: NamedTensor[] } | null;
  state: CheckpointState;
}

export function checkpointName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}`;
}

async function saveOptimizer(dir: string, base: string, optimizer: tf.Optimizer): Promise<void> {
  const weights = await optimizer.getWeights();
  try {
    await writeNamedWeights(dir, base, weights);
  } finally {
    // getWeights returns a fresh iteration-count scalar first; the rest are the optimizer's own variables.
    weights[0]?.tensor.dispose();
  }
}

/** Writes the checkpoint of `state.epoch` atomically; returns its folder. */
export async function writeCheckpoint(checkpointsDir: string, data: CheckpointWrite): Promise<string> {
  const target = join(checkpointsDir, checkpointName(data.state.epoch));
  await mkdir(checkpointsDir, { recursive: true });
  await writeDirAtomic(
    target,
    async (dir) => {
      await saveModelFiles(data.model, dir);
      await saveOptimizer(dir, 'optimizer', data.optimizer);
      if (data.best) {
        await writeNamedWeights(dir, 'best', data.best.map((tensor, i) => ({ name: `w${i}`, tensor })));
      }
      if (data.discriminator) {
        await mkdir(join(dir, 'discriminator'));
        await saveModelFiles(data.discriminator.model, join(dir, 'discriminator'));
        await saveOptimizer(dir, 'disc-optimizer', data.discriminator.optimizer);
      }
      await writeFile(join(dir, STATE_FILE), JSON.stringify(data.state, null, 1));
    },
    { replace: true },
  );
  return target;
}

/** Epoch folders in `checkpointsDir`, newest first. */
export async function listCheckpoints(checkpointsDir: string): Promise<{ epoch: number; dir: string }[]> {
  let names: string[];
  try {
    names = await readdir(checkpointsDir);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, m: NAME.exec(name) }))
    .filter((e): e is { name: string; m: RegExpExecArray } => e.m !== null)
    .map((e) => ({ epoch: Number(e.m[1]), dir: join(checkpointsDir, e.name) }))
    .sort((a, b) => b.epoch - a.epoch);
}

export async function readCheckpointState(dir: string): Promise<CheckpointState> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8'));
  } catch (error) {
    throw new StudioError('MODEL_INVALID', `${STATE_FILE} in checkpoint ${dir} cannot be read: ${(error as Error).message}`);
  }
  const parsed = CheckpointStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StudioError(
      'MODEL_INVALID',
      `${STATE_FILE} in checkpoint ${dir} is invalid: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown problem'}`,
    );
  }
  return parsed.data;
}

/** Loads a checkpoint folder. The caller owns the returned models and tensors. */
export async function readCheckpoint(dir: string): Promise<CheckpointRead> {
  const state = await readCheckpointState(dir);
  const model = await loadModelFiles(dir);
  const owned: tf.Tensor[] = [];
  try {
    const optimizerWeights = await readNamedWeights(dir, 'optimizer');
    owned.push(...optimizerWeights.map((w) => w.tensor));
    let best: tf.Tensor[] | null = null;
    if (state.hasBest) {
      best = (await readNamedWeights(dir, 'best')).map((w) => w.tensor);
      owned.push(...best);
    }
    let discriminator: CheckpointRead['discriminator'] = null;
    if (state.hasDiscriminator) {
      const dModel = await loadModelFiles(join(dir, 'discriminator'));
      const dWeights = await readNamedWeights(dir, 'disc-optimizer');
      discriminator = { model: dModel, optimizerWeights: dWeights };
    }
    return { dir, model, optimizerWeights, best, discriminator, state };
  } catch (error) {
    model.dispose();
    tf.dispose(owned);
    throw error;
  }
}

/** The newest checkpoint whose state.json reads; null when there is none. */
export async function findLatestCheckpoint(checkpointsDir: string): Promise<string | null> {
  for (const { dir } of await listCheckpoints(checkpointsDir)) {
    try {
      await readCheckpointState(dir);
      return dir;
    } catch {
      // incomplete or damaged: try the previous one
    }
  }
  return null;
}

/** Removes all but the newest `keep` checkpoints (and stale temporaries). */
export async function pruneCheckpoints(checkpointsDir: string, keep: number): Promise<void> {
  const all = await listCheckpoints(checkpointsDir);
  for (const { dir } of all.slice(Math.max(1, keep))) await rm(dir, { recursive: true, force: true });
  // Leftovers of writes interrupted by a crash (no write is in flight when this runs).
  for (const name of await readdir(checkpointsDir)) {
    if (name.startsWith('.epoch-')) await rm(join(checkpointsDir, name), { recursive: true, force: true });
  }
}
