// Fine-tuning: a training run that starts from the weights of an installed model instead of a fresh build.
// The run keeps that model's architecture, so the card decides the hyper-parameters; asking for different
// ones is refused up front (before any data is read) with what to change.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { StudioError } from '#shared/rpc/errors';
import type { ArchitectureId, HyperParams, ModelCard } from '#shared/model-card';
import { readCard } from '../package/index';
import { resolveModelRef } from './models';

export interface StartingPoint {
  dir: string;
  card: ModelCard;
  /** The hyper-parameters the run trains with: the starting model's. */
  hyper: HyperParams;
}

/** Hyper-parameters a run may turn on over its starting model: they only add input channels (widenInputChannels). */
const ADDS_INPUT_CHANNELS: Record<string, true> = { seesOriginal: true };

/** Finds the model a run starts from (an id in the models folder, a built-in id, or a folder path). */
export async function readStartingPoint(spec: string, options: { modelsDir?: string; arch: ArchitectureId; hyper: HyperParams }): Promise<StartingPoint> {
  const ref = await resolveModelRef(spec, options.modelsDir);
  const card = await readCard(ref.dir);
  const name = `"${card.name}" (${ref.dir})`;
  if (card.architecture.id !== options.arch) {
    throw new StudioError(
      'BAD_INPUT',
      `${name} is a ${card.architecture.id} model; a run that starts from it trains a ${card.architecture.id}, not a ${options.arch}. Choose ${card.architecture.id} or start from scratch.`,
    );
  }
  const conflicts = Object.entries(options.hyper).filter(
    ([key, value]) => key in card.architecture.hyper && card.architecture.hyper[key] !== value && !(key in ADDS_INPUT_CHANNELS && value === true),
  );
  if (conflicts.length > 0) {
    const list = conflicts.map(([key, value]) => `${key} ${String(value)} (the model has ${String(card.architecture.hyper[key])})`).join(', ');
    throw new StudioError('BAD_INPUT', `${name} cannot be trained with ${list}: fine-tuning keeps the model's architecture. Drop those settings or start from scratch.`);
  }
  return { dir: ref.dir, card, hyper: { ...card.architecture.hyper, ...options.hyper } };
}

/**
 * The starting model's weights in a model built with more input channels (a filler given the original
 * photo too: fill-unet's seesOriginal): every layer's weights are copied by name, and a first convolution's
 * kernel gets zero weights for the new channels, so the run starts from exactly what the starting model
 * computed and learns what the new channels add. `loaded` is disposed; any other difference is refused.
 */
export function widenInputChannels(loaded: tfl.LayersModel, built: tfl.LayersModel, name: string): tfl.LayersModel {
  try {
    for (const layer of built.layers) {
      const weights = layer.getWeights();
      if (weights.length === 0) continue;
      let source: tfl.layers.Layer;
      try {
        source = loaded.getLayer(layer.name);
      } catch {
        throw new StudioError('BAD_INPUT', `${name} has no layer "${layer.name}": it cannot start this run.`);
      }
      const old = source.getWeights();
      const widened = weights.map((w, i) => {
        const o = old[i];
        if (!o) throw new StudioError('BAD_INPUT', `${name}'s layer "${layer.name}" has other weights than this run's model.`);
        if (o.shape.join() === w.shape.join()) return o.clone();
        const widensInputs = o.rank === 4 && w.rank === 4 && o.shape[2]! < w.shape[2]! && [0, 1, 3].every((axis) => o.shape[axis] === w.shape[axis]);
        if (!widensInputs) {
          throw new StudioError('BAD_INPUT', `${name}'s layer "${layer.name}" holds [${o.shape.join(', ')}] where this run's model needs [${w.shape.join(', ')}].`);
        }
        return tf.tidy(() => tf.concat([o, tf.zeros([o.shape[0]!, o.shape[1]!, w.shape[2]! - o.shape[2]!, o.shape[3]!])], 2));
      });
      // getWeights hands out the variables' own tensors: only the copies made here are freed.
      layer.setWeights(widened);
      tf.dispose(widened);
    }
    return built;
  } catch (error) {
    built.dispose();
    throw error;
  } finally {
    loaded.dispose();
  }
}
