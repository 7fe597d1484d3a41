// The engine's methods, one function each, one file per domain: training (train.ts), evaluation
// (evaluate.ts) and the model library (models.ts) here; restoring (restore.ts), datasets (dataset.ts) and the
// queue (queue.ts) are imported by ../handlers.ts directly. The engine contract (../contract.ts) serves them as
// streams (train.run, evaluate.run, restore.run, …) and methods (train.*, models.*, …).
export { runTrainJob, recipeFromParams, trainRunInfo, type TrainJobContext } from './train';
export { runEvaluateJob, scoreAgainst, type EvaluateJobContext } from './evaluate';
export {
  architectureSummaries,
  deleteModel,
  exportModel,
  importModel,
  listModels,
  modelLayers,
  renameModel,
  resolveModelRef,
  showModel,
  type ModelRef,
} from './models';
export { dataFingerprint, modelsRoot, openJobData, resolveTrainOutput, type TrainOutput } from './common';
export { readRunState, RUN_STATE_FILE } from './run-state';
