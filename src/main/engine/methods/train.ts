// The training job: a dataset folder and a few parameters in, a model package out, progress as events.
//
//   data (paired, or clean + synthesis preset) → seeded train/validation split → streaming patch sampler
//   (worker thread) + fixed validation crops → train() (checkpoint every epoch in the run folder) → package
//   (card with the data fingerprint, the recipe, the history, the final metrics, backend and time).
//
// Stopping: `signal` (an unsubscribed stream) stops within one batch and saves nothing new; `stop` (the
// user's Stop button, Ctrl+C in the CLI) also stops within one batch and then saves the model of the
// finished epochs (best validation epoch). Either way the last epoch's checkpoint stays in the run folder, so
// `resume: true` continues from it, as it does after a crash.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import type { TrainRecipeInput } from '#shared/model-card';
import {
  TrainParamsSchema,
  type TrainDoneEvent,
  type TrainEvent,
  type TrainParams,
  type TrainParamsInput,
  type TrainRunState,
} from '#shared/training';
import { createPatchSampler, createValidationSet, deriveSeed, recipeDrawsDamage, splitDataset, type ManagedPatchSampler } from '../data/index';
import { getArchitecture, inputChannelsFor } from '../models/index';
import { findLatestCheckpoint, readCheckpointState, train, type TrainResult } from '../train/index';
import { loadPackageDir, savePackage, trainingSection } from '../package/index';
import { loadVgg16Weights } from '../keras/vgg16';
import { anySignal, dataFingerprint, exists, openJobData, parseParams, resolveTrainOutput } from './common';
import { readStartingPoint, widenInputChannels } from './init-from';
import { readRunState, writeRunState } from './run-state';
import { processAlive } from '../../process-alive';

export interface TrainJobContext {
  /** Cancel: stop within one batch; the checkpoint stays, no package is written. */
  signal?: AbortSignal;
  /** Graceful stop: stop within one batch, then save the model of the finished epochs. */
  stop?: AbortSignal;
  emit?: (event: TrainEvent) => void;
  /** Identifies the run in its start event and run.json (default: a fresh UUID). */
  runId?: string;
}

/** Run folders being trained into by this process. */
const activeRuns = new Set<string>();

/** The training recipe (model-card schema) the job's flat parameters describe. */
export function recipeFromParams(params: TrainParams, hyper: Record<string, number | string | boolean>): TrainRecipeInput {
  return {
    architecture: params.arch,
    hyper,
    loss: params.loss,
    optimizer: { learningRate: params.lr },
    schedule: {
      kind: params.schedule,
      warmupSteps: params.warmup,
      ...(params.stepEpochs !== undefined ? { stepEpochs: params.stepEpochs } : {}),
      ...(params.gamma !== undefined ? { gamma: params.gamma } : {}),
      ...(params.minLr !== undefined ? { minLearningRate: params.minLr } : {}),
    },
    epochs: params.epochs,
    stepsPerEpoch: params.stepsPerEpoch,
    batchSize: params.batchSize,
    patchSize: params.patch,
    earlyStopping: params.patience === null ? null : { patience: params.patience, minDelta: params.minDelta },
    sampleCount: params.samples,
    gan: { enabled: params.gan, ...(params.adversarialWeight !== undefined ? { adversarialWeight: params.adversarialWeight } : {}) },
  };
}

/** Runs one training job to its end (completed, early-stopped or stopped) and returns the done event. */
export async function runTrainJob(input: TrainParamsInput, ctx: TrainJobContext = {}): Promise<TrainDoneEvent> {
  const params = parseParams(TrainParamsSchema, input, 'training parameters');
  const emit = (event: TrainEvent): void => ctx.emit?.(event);
  const arch = getArchitecture(params.arch);
  const start = params.initFrom ? await readStartingPoint(params.initFrom, { modelsDir: params.modelsDir, arch: params.arch, hyper: params.hyper }) : null;
  const hyperIn = { ...(start?.hyper ?? params.hyper) };
  // The classifier's input size is the patch size unless given.
  if (arch.task === 'classify' && hyperIn.inputSize === undefined) hyperIn.inputSize = params.patch;
  const hyper = arch.resolve(hyperIn);
  if (params.vgg16Weights && arch.id !== 'vgg16-restorer') {
    throw new StudioError('BAD_INPUT', `VGG16 weights load only into the vgg16-restorer architecture, not ${arch.id}.`);
  }
  if (params.vgg16Weights && start) throw new StudioError('BAD_INPUT', 'Start either from VGG16 weights or from a model, not both.');
  if (params.gan && arch.task !== 'restore') throw new StudioError('BAD_INPUT', 'GAN fine-tuning applies to restorers only.');

  const output = resolveTrainOutput(params);
  const { workDir } = output;
  if ((await exists(output.dir)) && !params.resume && !params.overwrite) {
    throw new StudioError(
      'OUTPUT_UNWRITABLE',
      `A model already exists at ${output.dir}. Choose another output, delete that model, continue its run with resume, or replace it with overwrite.`,
    );
  }
  if (activeRuns.has(workDir)) throw new StudioError('BAD_INPUT', `A training run is already writing ${output.dir}.`);
  const previous = await readRunState(workDir);
  if (previous?.state === 'running' && previous.pid !== process.pid && processAlive(previous.pid)) {
    throw new StudioError('BAD_INPUT', `Another process (pid ${previous.pid}) is already training into ${output.dir}.`);
  }

  const { dataset, recipe: degradation } = await openJobData(params.data, params.synth);
  if ((arch.task === 'detect' || arch.task === 'fill') && !(degradation && recipeDrawsDamage(degradation))) {
    throw new StudioError(
      'BAD_INPUT',
      `${arch.name} learns ${arch.task === 'detect' ? 'where the synthesis draws damage' : 'to fill the damage the synthesis draws'}: train it on a folder of clean photos with a preset that draws scratches or dust, such as ${arch.task === 'detect' ? 'old-photo-damage' : 'old-photo-fill'}${params.synth ? ` ("${params.synth}" draws none)` : ''}.`,
    );
  }
  const split = splitDataset(dataset.items, { valFraction: params.validationFraction, seed: params.seed });
  if (split.train.length === 0) throw new StudioError('DATASET_EMPTY', `${dataset.root} leaves no images for training after the validation split.`);
  const fingerprint = await dataFingerprint(dataset, {
    recipe: degradation,
    seed: params.seed,
    validationFraction: params.validationFraction,
  });

  const checkpointsDir = join(workDir, 'checkpoints');
  let resumedFrom = 0;
  let globalStep = 0;
  if (params.resume) {
    const latest = await findLatestCheckpoint(checkpointsDir);
    if (latest) {
      const state = await readCheckpointState(latest);
      resumedFrom = state.epoch;
      globalStep = state.globalStep;
    }
  } else {
    // A fresh run: older checkpoints of this output would otherwise look newer than the new ones.
    await rm(checkpointsDir, { recursive: true, force: true });
    await rm(join(workDir, 'samples'), { recursive: true, force: true });
  }
  await mkdir(workDir, { recursive: true });

  const runId = ctx.runId ?? randomUUID();
  const startedAt = new Date().toISOString();
  let runState: TrainRunState = {
    runId,
    state: 'running',
    pid: process.pid,
    output: output.dir,
    epoch: resumedFrom,
    epochs: params.epochs,
    globalStep,
    startedAt,
    updatedAt: startedAt,
    error: null,
  };
  const saveState = async (patch: Partial<TrainRunState>): Promise<void> => {
    runState = { ...runState, ...patch, updatedAt: new Date().toISOString() };
    await writeRunState(workDir, runState);
  };

  activeRuns.add(workDir);
  let sampler: ManagedPatchSampler | null = null;
  let initialModel: tfl.LayersModel | undefined;
  let result: TrainResult | null = null;
  try {
    await saveState({});
    const warn = (message: string): void => emit({ type: 'warning', message });
    const onWarning = (w: { file: string; reason: string }): void => warn(`${w.file}: ${w.reason} (skipped)`);
    // A detector learns the synthesis' damage map instead of the clean photo, a filler the clean photo under
    // the damage from the photo and its mask (see data/target.ts).
    const target = arch.task === 'detect' ? 'damage' : arch.task === 'fill' ? (hyper.seesOriginal === true ? 'fill-check' : 'fill') : 'clean';
    sampler = await createPatchSampler({
      items: split.train,
      recipe: degradation,
      target,
      patchSize: params.patch,
      batchSize: params.batchSize,
      // A resumed run draws fresh patches rather than replaying the first epochs' stream.
      seed: resumedFrom > 0 ? deriveSeed(params.seed, 'resume', resumedFrom) : params.seed,
      ...(params.patchesPerImage !== undefined ? { patchesPerImage: params.patchesPerImage } : {}),
      thread: params.samplerThread,
      onWarning,
    });
    const valCrop = arch.task === 'classify' ? params.patch : (params.valCrop ?? Math.min(256, 2 * params.patch));
    const validation =
      split.val.length > 0
        ? createValidationSet({ items: split.val, recipe: degradation, target, crop: valCrop, seed: params.seed, maxItems: params.maxValImages, onWarning })
        : undefined;
    if (!validation) warn('No images are held out for validation: validation loss, PSNR and SSIM stay empty and early stopping is off.');
    if (params.resume && resumedFrom === 0) warn(`There is no checkpoint to resume in ${checkpointsDir}: training starts from scratch.`);

    let vgg16Layers: string[] | undefined;
    if (params.vgg16Weights && resumedFrom === 0) {
      initialModel = arch.build(hyper, { channels: 3 });
      vgg16Layers = await loadVgg16Weights(initialModel, params.vgg16Weights);
    }
    if (start && resumedFrom === 0) {
      const loaded = (await loadPackageDir(start.dir)).model;
      // Only a run that adds input channels (seesOriginal) builds a second model to widen into.
      if (loaded.inputs[0]?.shape[3] === inputChannelsFor(arch.task, 3, hyper)) initialModel = loaded;
      else initialModel = widenInputChannels(loaded, arch.build(hyper, { channels: 3 }), `"${start.card.name}" (${start.dir})`);
    }

    emit({
      type: 'start',
      runId,
      workDir,
      output: output.dir,
      resumedFrom,
      epochs: params.epochs,
      datasetKind: dataset.kind,
      trainImages: split.train.length,
      valImages: Math.min(split.val.length, params.maxValImages),
      dataFingerprint: fingerprint,
      backend: tf.getBackend(),
      sampler: sampler.mode,
      hyper,
      paramCount: arch.paramCount(hyper),
      ...(vgg16Layers ? { vgg16Layers } : {}),
      ...(start ? { initFrom: { name: start.card.name, dir: start.dir } } : {}),
    });

    const sessionStart = performance.now();
    let sessionEpochs = 0;
    result = await train({
      recipe: recipeFromParams(params, hyper),
      sampler,
      validation,
      workDir,
      resume: params.resume,
      initialModel,
      signal: anySignal([ctx.signal, ctx.stop]),
      onBatch: (event) => {
        globalStep = event.globalStep;
        emit({ type: 'batch', ...event });
      },
      onEpoch: async (event) => {
        sessionEpochs += 1;
        const perEpoch = (performance.now() - sessionStart) / 1000 / sessionEpochs;
        emit({ type: 'epoch', ...event, etaSeconds: Math.max(0, perEpoch * (event.epochs - event.epoch)) });
        await saveState({ epoch: event.epoch, globalStep });
      },
    });
    initialModel = undefined; // now result.model

    const cancelled = result.status === 'cancelled';
    const keep = !cancelled || (ctx.stop?.aborted === true && ctx.signal?.aborted !== true);
    let saved: { id: string; dir: string } | null = null;
    if (keep && result.epochs > 0) {
      const what = params.synth ? `${dataset.kind} images of ${basename(dataset.root)} degraded with ${params.synth}` : `pairs of ${basename(dataset.root)}`;
      saved = await savePackage(
        output.root,
        result.model,
        {
          id: output.id,
          name: output.name,
          architecture: { id: arch.id, hyper: result.recipe.hyper, channels: 3 },
          restores: {
            preset: params.synth ?? null,
            description:
              `Trained on ${what} for ${result.epochs} epoch${result.epochs === 1 ? '' : 's'}` +
              (start ? `, starting from "${start.card.name}".` : '.'),
          },
          training: trainingSection(result, { dataFingerprint: fingerprint }),
          source: 'trained',
        },
        { overwrite: params.resume || params.overwrite },
      );
    }
    await saveState({ state: result.status, epoch: result.epochs, globalStep });
    const done: TrainDoneEvent = {
      type: 'done',
      model: saved?.dir ?? null,
      id: saved?.id ?? null,
      status: result.status,
      epochs: result.epochs,
      bestEpoch: result.bestEpoch,
      finalMetrics: result.finalMetrics,
      seconds: result.seconds,
      workDir,
      checkpoint: result.checkpoint,
    };
    emit(done);
    return done;
  } catch (error) {
    const cancelled = ctx.signal?.aborted === true || ctx.stop?.aborted === true;
    await saveState({ state: cancelled ? 'cancelled' : 'failed', globalStep, error: cancelled ? null : (error as Error).message ?? String(error) }).catch(() => {});
    throw error;
  } finally {
    activeRuns.delete(workDir);
    await sampler?.close().catch(() => {});
    initialModel?.dispose();
    result?.model.dispose();
  }
}

/** What a resume of `out` would continue from, and the run's last known state. */
export async function trainRunInfo(params: { out: string; modelsDir?: string; workDir?: string }): Promise<{
  workDir: string;
  output: string;
  checkpointEpoch: number | null;
  run: TrainRunState | null;
}> {
  const output = resolveTrainOutput(params);
  const latest = await findLatestCheckpoint(join(output.workDir, 'checkpoints')).catch(() => null);
  const checkpointEpoch = latest ? (await readCheckpointState(latest)).epoch : null;
  return { workDir: output.workDir, output: output.dir, checkpointEpoch, run: await readRunState(output.workDir) };
}
