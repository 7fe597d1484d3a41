// The model zoo: every architecture by id. Importing this module also registers the custom layers, which
// loading a saved model needs.
import { StudioError } from '#shared/rpc/errors';
import { ArchitectureIdSchema, type ArchitectureId, type ArchitectureInfo } from '#shared/model-card';
import type { Architecture } from './types';
import { classifier } from './classifier';
import { autoencoder } from './autoencoder';
import { esrcnn } from './esrcnn';
import { ddsrcnn } from './ddsrcnn';
import { vgg16Restorer } from './vgg16-restorer';
import { dncnn } from './dncnn';
import { ffdnet } from './ffdnet';
import { damageUnet, fillUnet, unet } from './unet';
import { nafnetTiny } from './nafnet-tiny';
import { registerCustomLayers } from './layers';

registerCustomLayers();

export const ARCHITECTURES: Readonly<Record<ArchitectureId, Architecture>> = {
  classifier,
  autoencoder,
  esrcnn,
  ddsrcnn,
  'vgg16-restorer': vgg16Restorer,
  dncnn,
  ffdnet,
  unet,
  'nafnet-tiny': nafnetTiny,
  'damage-unet': damageUnet,
  'fill-unet': fillUnet,
};

export const ARCHITECTURE_IDS: readonly ArchitectureId[] = ArchitectureIdSchema.options;

export function isArchitectureId(id: string): id is ArchitectureId {
  return (ARCHITECTURE_IDS as readonly string[]).includes(id);
}

/** The architecture with this id; MODEL_NOT_FOUND naming the known ids otherwise. */
export function getArchitecture(id: string): Architecture {
  if (!isArchitectureId(id)) {
    throw new StudioError('MODEL_NOT_FOUND', `There is no architecture "${id}". Known: ${ARCHITECTURE_IDS.join(', ')}.`);
  }
  return ARCHITECTURES[id];
}

/** JSON-safe descriptions of every architecture, for the UI. */
export function listArchitectures(): ArchitectureInfo[] {
  return ARCHITECTURE_IDS.map((id) => ARCHITECTURES[id].info());
}

export type { Architecture, BuildOptions, ModelStats } from './types';
export { extractFeatures, FEATURE_LAYER } from './classifier';
export { CUSTOM_LAYERS, registerCustomLayers } from './layers';
export { countMacs } from './macs';
export { inputChannelsFor } from './unet';
