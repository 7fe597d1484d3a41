// PyTorch weights (.pth zip and legacy, .safetensors): a reader that never runs pickle code, architecture
// detection (ESRGAN, Real-ESRGAN Compact, SPAN) and their rebuild in TensorFlow.js, and import as a package.
export { importPytorchWeights, weightsDisplayName } from './import';
export { detectArchitecture, type Detected, type ImportedArchitecture } from './detect';
export { parseWeights, readWeightsFile, sniffWeightsFile, stripPrefixes, unwrapStateDict, type WeightsFile, type WeightsFormat } from './state-dict';
export { unpickle, refusedGlobal } from './pickle';
export type { StateDict, TorchTensor } from './tensor';
