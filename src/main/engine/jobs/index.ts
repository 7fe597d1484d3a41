// The engine's jobs, one function each: training, evaluation and the model library. The engine contract
// (../contract.ts) serves them as streams (train.run, evaluate.run) and methods (train.*, models.*).
export { runTrainJob, recipeFromParams, trainRunInfo, type TrainJobContext } from './train-job';
export { runEvaluateJob, scoreAgainst, type EvaluateJobContext } from './evaluate-job';
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
} from './models-jobs';
export { dataFingerprint, modelsRoot, openJobData, resolveTrainOutput, type TrainOutput } from './common';
export { readRunState, RUN_STATE_FILE } from './run-state';
