// Imports a community weights file (.pth / .pt / .safetensors) as a studio model package: read safely,
// detect the architecture, rebuild it in TensorFlow.js, and write a card that says where it came from.
import { basename } from 'node:path';
import { MODEL_CARD_FORMAT_VERSION, type ModelCard } from '#shared/model-card';
import { addPackage, slugify } from '../package/index';
import { detectArchitecture } from './detect';
import { readWeightsFile } from './state-dict';

/** A display name for an imported file: its name without the extension. */
export function weightsDisplayName(path: string): string {
  return basename(path).replace(/\.(pth|pt|safetensors|ckpt|bin)$/i, '') || 'pytorch-model';
}

export async function importPytorchWeights(
  root: string,
  path: string,
  options: { name?: string } = {},
): Promise<{ id: string; dir: string; card: ModelCard }> {
  const file = basename(path);
  const weights = await readWeightsFile(path);
  const detected = detectArchitecture(file, weights.state);
  const { model, macsPerPixel } = detected.build();
  try {
    const name = options.name ?? weightsDisplayName(path);
    const card: ModelCard = {
      formatVersion: MODEL_CARD_FORMAT_VERSION,
      id: slugify(name),
      name,
      task: 'restore',
      architecture: {
        id: detected.architecture,
        hyper: detected.hyper,
        channels: 3,
        requiredMultiple: detected.requiredMultiple,
        padsInternally: false,
      },
      restores: {
        preset: null,
        description: `${detected.label}, ${detected.scale}x, imported from ${file}.`,
      },
      training: null,
      createdAt: new Date().toISOString(),
      params: model.countParams(),
      macsPerPixel: Math.round(macsPerPixel),
      scale: detected.scale,
      source: 'imported-pytorch',
      imported: { format: weights.format, file, sha256: weights.sha256, architecture: detected.architecture, scale: detected.scale },
      license: weights.metadata.license ?? null,
    };
    return await addPackage(root, model, card, card.id);
  } finally {
    model.dispose();
  }
}
