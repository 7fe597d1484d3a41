// Triage: the clean-vs-degraded classifier scores every photo of a folder (sigmoid output = probability the
// photo is degraded), most damaged first. The classifier sees fixed-size inputs, so each photo is scored on
// a few crops at its own resolution (centre and the four quadrant centres; degradations such as noise, grain
// and JPEG blocking are scale-dependent, a whole-photo thumbnail would hide them) and the scores averaged.
// Photos smaller than the classifier's input are scaled up to cover it first. A classifier whose card carries
// a calibration (see calibration.ts) reports calibrated probabilities; without one the raw mean is reported and
// marked uncalibrated, so the GUI does not read it as a probability.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { relative, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { StudioError, throwIfAborted } from '#shared/rpc/errors';
import { decodeFailureReason, decodeImageFile, rawToFloat, type RgbImage } from '../data/image';
import { listImages } from './batch';
import { loadModelDir, resolveModelDir, type ModelLookup } from './model';
import { applyCalibration } from './calibration';
import type { ClassifierCalibration } from '#shared/model-card';

export interface Classifier {
  id: string;
  name: string;
  /** Input height and width. */
  size: readonly [number, number];
  channels: 1 | 3;
  /** From the card: maps the raw crop mean to a probability for the whole photo. */
  calibration: ClassifierCalibration | null;
  /** P(degraded) for a batch of crops [n, h, w, 3] in [0, 1]; the caller disposes nothing (tidy inside). */
  predict(crops: tf.Tensor4D): tf.Tensor1D;
  dispose(): void;
}

export interface TriageScore {
  file: string;
  score: number;
}

export interface TriageResult {
  /** Sorted by score, most damaged first. */
  scores: TriageScore[];
  /** True when the scores are calibrated probabilities. */
  calibrated: boolean;
  failed: { file: string; reason: string }[];
}

export interface TriageOptions {
  dir: string;
  classifier: Classifier;
  recursive?: boolean;
  /** Crops per photo (1 = centre only, up to 5); default 5. */
  crops?: number;
}

export interface TriageControl {
  signal?: AbortSignal;
  onProgress?: (info: { index: number; total: number; file: string }) => void;
}

/** Wraps a loaded layers model as a classifier, checking it maps a fixed-size image to one probability. */
export function wrapClassifier(
  model: tfl.LayersModel,
  info: { id: string; name: string; task?: string | null; calibration?: ClassifierCalibration | null },
): Classifier {
  const input = (model.inputs[0]?.shape ?? []) as (number | null)[];
  const output = (model.outputs[0]?.shape ?? []) as (number | null)[];
  const [, h, w, c] = input;
  const oneUnit = output.length === 2 && output[1] === 1;
  if (info.task === 'restore' || !oneUnit || input.length !== 4) {
    throw new StudioError(
      'MODEL_INVALID',
      `"${info.name}" is not a clean-vs-degraded classifier (it maps [${input.join(', ')}] to [${output.join(', ')}]; triage needs an image in and one probability out).`,
    );
  }
  if (typeof h !== 'number' || typeof w !== 'number') {
    throw new StudioError('MODEL_INVALID', `"${info.name}" does not declare its input size; triage needs a classifier with a fixed input size.`);
  }
  if (c !== 3 && c !== 1) throw new StudioError('MODEL_INVALID', `"${info.name}" takes ${c} channels; triage needs RGB (3) or grayscale (1).`);
  return {
    id: info.id,
    name: info.name,
    size: [h, w],
    channels: c,
    calibration: info.calibration ?? null,
    predict: (crops) =>
      tf.tidy(() => {
        const x = c === 1 ? tf.mean(crops, 3, true) : crops;
        return tf.reshape(model.predict(x) as tf.Tensor, [-1]) as tf.Tensor1D;
      }),
    dispose: () => model.dispose(),
  };
}

/** Finds and loads the classifier for a --model value (default: a package with the id "classifier"). */
export async function loadClassifier(spec?: string, lookup: ModelLookup = {}): Promise<Classifier> {
  const dir = await resolveModelDir(spec, 'classify', lookup);
  const loaded = await loadModelDir(dir);
  try {
    return wrapClassifier(loaded.model, {
      id: loaded.id,
      name: loaded.name,
      task: loaded.card?.task ?? null,
      calibration: loaded.card?.calibration ?? null,
    });
  } catch (error) {
    loaded.model.dispose();
    throw error;
  }
}

/** Top-left corners of up to five crops: centre first, then the centres of the four quadrants. */
export function cropOrigins(width: number, height: number, cw: number, ch: number, count: number): [number, number][] {
  const clampX = (x: number): number => Math.max(0, Math.min(width - cw, Math.round(x - cw / 2)));
  const clampY = (y: number): number => Math.max(0, Math.min(height - ch, Math.round(y - ch / 2)));
  const centres: [number, number][] = [
    [width / 2, height / 2],
    [width / 4, height / 4],
    [(3 * width) / 4, height / 4],
    [width / 4, (3 * height) / 4],
    [(3 * width) / 4, (3 * height) / 4],
  ];
  return centres.slice(0, Math.max(1, Math.min(5, count))).map(([x, y]) => [clampX(x), clampY(y)]);
}

/** The classifier's score for one decoded image: mean P(degraded) over its crops. */
export async function scoreImage(classifier: Classifier, image: RgbImage, crops = 5): Promise<number> {
  const [ch, cw] = classifier.size;
  const scores = tf.tidy(() => {
    let x = tf.tensor4d(image.data, [1, image.height, image.width, 3]);
    let { width, height } = image;
    if (width < cw || height < ch) {
      // Scale up (keeping the aspect ratio) until the crop fits.
      const scale = Math.max(cw / width, ch / height);
      width = Math.max(cw, Math.round(width * scale));
      height = Math.max(ch, Math.round(height * scale));
      x = tf.image.resizeBilinear(x, [height, width]);
    }
    const boxes = cropOrigins(width, height, cw, ch, crops).map(([x0, y0]) => tf.slice(x, [0, y0, x0, 0], [1, ch, cw, 3]));
    return classifier.predict(tf.concat(boxes, 0) as tf.Tensor4D);
  });
  try {
    const values = Array.from(await scores.data());
    return values.reduce((a, b) => a + b, 0) / values.length;
  } finally {
    scores.dispose();
  }
}

/** Scores every photo of a folder, most damaged first; unreadable files are listed with their reason. */
export async function triageFolder(options: TriageOptions, control: TriageControl = {}): Promise<TriageResult> {
  const dir = resolve(options.dir);
  const info = await stat(dir).catch(() => null);
  if (!info) throw new StudioError('NOT_FOUND', `There is no folder at ${dir}.`);
  if (!info.isDirectory()) throw new StudioError('BAD_INPUT', `${dir} is not a folder; triage scores the photos of a folder.`);
  const files = await listImages(dir, options.recursive ?? false);
  if (files.length === 0) {
    throw new StudioError('NOT_FOUND', `No images found in ${dir}${options.recursive ? ' or its subfolders' : ' (add --recursive to include subfolders)'}.`, {
      reason: 'NO_IMAGES',
    });
  }
  const scores: TriageScore[] = [];
  const failed: { file: string; reason: string }[] = [];
  for (const [i, path] of files.entries()) {
    throwIfAborted(control.signal);
    const file = relative(dir, path);
    control.onProgress?.({ index: i + 1, total: files.length, file });
    let image: RgbImage;
    try {
      image = rawToFloat((await decodeImageFile(path)).image);
    } catch (error) {
      failed.push({ file, reason: decodeFailureReason(error) });
      continue;
    }
    const raw = await scoreImage(options.classifier, image, options.crops ?? 5);
    const { calibration } = options.classifier;
    scores.push({ file, score: calibration ? applyCalibration(raw, calibration) : raw });
  }
  scores.sort((a, b) => b.score - a.score || (a.file < b.file ? -1 : 1));
  return { scores, failed, calibrated: options.classifier.calibration !== null };
}
