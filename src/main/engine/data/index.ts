// The data pipeline's public API: datasets, checks, splits, patch samplers, validation crops and the
// degradation synthesizer. Training and the UI import from here.
export type { PatchBatch, PatchSampler } from './types';
export { type Dataset, type DatasetItem, type DatasetKind, type ScanResult, openDataset, scanDataset, pairFiles } from './dataset';
export { type CheckOptions, type DatasetCheck, checkDataset } from './check';
export { type DatasetSplit, type SplitOptions, splitDataset } from './split';
export {
  type SamplerOptions,
  type SamplerStats,
  type SamplerWarning,
  StreamingPatchSampler,
} from './sampler';
export {
  type CreateSamplerOptions,
  type ManagedPatchSampler,
  type SamplerThread,
  WorkerPatchSampler,
  createPatchSampler,
} from './worker-sampler';
export { type ValidationOptions, type ValidationSample, type ValidationSet, createValidationSet } from './validation';
export {
  type DecodedImage,
  type RawRgbImage,
  type RgbImage,
  decodeImage,
  decodeImageFile,
  encodePng,
  loadRgbImage,
  rawToFloat,
} from './image';
export { Rng, createRng, deriveSeed, hashSeed } from './rng';
export {
  type AppliedStep,
  type DegradationRecipe,
  type DegradationStep,
  type Range,
  DegradationStepSchema,
  recipeDrawsDamage,
  synthesize,
} from './synth/recipe';
export { OLD_PHOTO, PRESETS, presetRecipe, resolvePreset } from './synth/presets';
export { type SynthFolderOptions, synthesizeFolder } from './synth/folder';
export * as degradations from './synth/ops';
export {
  DatasetReportSchema,
  type DatasetReport,
  SynthReportSchema,
  type SynthReport,
  SplitReportSchema,
  type SplitReport,
} from '#shared/dataset';
