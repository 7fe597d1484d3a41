// Fine-tuning: a training run that starts from the weights of an installed model instead of a fresh build.
// The run keeps that model's architecture, so the card decides the hyper-parameters; asking for different
// ones is refused up front (before any data is read) with what to change.
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
  const conflicts = Object.entries(options.hyper).filter(([key, value]) => key in card.architecture.hyper && card.architecture.hyper[key] !== value);
  if (conflicts.length > 0) {
    const list = conflicts.map(([key, value]) => `${key} ${String(value)} (the model has ${String(card.architecture.hyper[key])})`).join(', ');
    throw new StudioError('BAD_INPUT', `${name} cannot be trained with ${list}: fine-tuning keeps the model's architecture. Drop those settings or start from scratch.`);
  }
  return { dir: ref.dir, card, hyper: { ...card.architecture.hyper, ...options.hyper } };
}
