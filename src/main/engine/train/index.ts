// Training: the loop, losses, schedules, checkpoints and samples.
export { train, PSNR_CAP, type TrainOptions, type TrainResult, type TrainStatus } from './train';
export {
  binaryAccuracy,
  binaryCrossEntropy,
  charbonnierLoss,
  l1Loss,
  mseLoss,
  restoreLoss,
  ssimMixLoss,
  type LossFn,
  type LossOptions,
} from './losses';
export { learningRateAt, type ScheduleContext } from './schedule';
export {
  checkpointName,
  findLatestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  readCheckpointState,
  type CheckpointState,
} from './checkpoint';
export { writePng, writeSamples, type SampleImage, type SamplePaths } from './samples';
export { bceWithLogits, buildDiscriminator } from './gan';
