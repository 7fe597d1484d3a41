// Inference: batch restoration of photos of any size (tiled, resumable, metadata-preserving) and triage.
export {
  defaultOutputDir,
  listImages,
  restoreBatch,
  LOCK_NAME,
  type BatchStart,
  type FailedFile,
  type FileOutcome,
  type RestoreBatchControl,
  type RestoreBatchOptions,
  type RestoreProgress,
  type RestoreSummary,
} from './batch';
export { Journal, JOURNAL_NAME, type JournalRecord } from './journal';
export { autoTileSize, isOutOfMemory, memoryBudget, MIN_TILE, overlapFor, planTiles, smallerTile, type TilePlan } from './memory';
export {
  analyseLayers,
  DEFAULT_CLASSIFIER_MODEL,
  DEFAULT_RESTORE_MODEL,
  loadModelDir,
  loadDamageDetector,
  loadRestoreModel,
  resolveModelDir,
  wrapLayersModel,
  type ModelLookup,
  type RestoreModel,
} from './model';
export { DEFAULT_FILL_MODEL, loadDamageFiller, loadRepairFiller, refineFill } from './learned-fill';
export { PauseGate } from './pause';
export {
  decodePhoto,
  DEFAULT_QUALITY,
  FORMAT_CHOICES,
  outputFormatFor,
  outputNameFor,
  readPhoto,
  RestoredPhoto,
  type FormatChoice,
  type OutputFormat,
  type Photo,
} from './photo';
export { restorePhoto, restoreRows, type PixelSource, type RestorePhotoOptions, type RegionSink, wholeImageSink } from './restore-image';
export { chooseTileSize, planAxis, restoreTiled, type TileModel, type TileOptions } from './tiles';
export { loadClassifier, scoreImage, triageFolder, wrapClassifier, type Classifier, type TriageResult, type TriageScore } from './triage';
