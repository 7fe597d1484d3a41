// Keras import: whole models (.h5, Keras 3 .keras) into model packages, and VGG16 weights (.h5, .keras,
// Keras 3 .weights.h5) into vgg16-restorer.
import { basename } from 'node:path';
import { savePackage, guessTask } from '../package/index';
import type { ModelCard } from '#shared/model-card';
import { kerasDisplayName, loadKerasModel } from './model';

export { isHdf5File, openH5, h5 } from './h5';
export { isKerasArchive } from './keras3';
export { assignLayerWeights, kerasDisplayName, loadKerasModel, normalizeKerasConfig, type KerasModelInfo } from './model';
export { CAFFE_MEAN_BGR, foldCaffePreprocessing, loadVgg16Weights, VGG16_ENCODER_LAYERS, type Vgg16LoadOptions } from './vgg16';

/** Imports a Keras .h5 model file or .keras archive as a new package in the models folder `root`. */
export async function importKerasH5(
  root: string,
  path: string,
  options: { name?: string } = {},
): Promise<{ id: string; dir: string; card: ModelCard }> {
  const { model, info } = await loadKerasModel(path);
  try {
    const description = `Imported from ${basename(path)}${info.kerasVersion ? ` (Keras ${info.kerasVersion})` : ''}.`;
    return await savePackage(root, model, {
      name: options.name ?? kerasDisplayName(path),
      architecture: { id: 'external' },
      restores: { preset: null, description },
      source: 'imported-keras',
      task: guessTask(model),
    });
  } finally {
    model.dispose();
  }
}
