// Model packages: save / load / list / rename / delete, zip export and import, tfjs file IO.
export {
  addPackage,
  CARD_JSON,
  createCard,
  deletePackage,
  guessTask,
  listPackages,
  loadPackage,
  loadPackageDir,
  readCard,
  renamePackage,
  savePackage,
  slugify,
  trainingSection,
  uniqueId,
  verifyPackage,
  type CardInput,
  type LoadedPackage,
} from './packages';
export { exportPackageZip, importModelFolder, importPackage, MAX_ZIP_UNCOMPRESSED } from './zip';
export {
  fileIOHandler,
  loadModelFiles,
  MODEL_JSON,
  readArtifacts,
  readNamedWeights,
  saveModelFiles,
  WEIGHTS_BIN,
  writeArtifacts,
  writeNamedWeights,
} from './model-io';
export { isModelFolder, locateModel, lookupRoots, modelIds, type ModelLookup, type ModelRef } from './locate';
