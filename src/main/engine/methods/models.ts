// The model library over a models folder: list, show, import (package zip, model folder, Keras .h5),
// export (zip), delete, rename. Broken packages are listed with their error; every other operation on one
// fails with MODEL_INVALID naming the file and the problem.
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import type { ArchitectureSummary, ModelDetails, ModelImportResult, ModelListItem } from '#shared/model-library';
import type { HyperParams, LayerSummary, ModelCard } from '#shared/model-card';
import { ARCHITECTURE_IDS, getArchitecture } from '../models/index';
import { summarizeModel } from '../models/summary';
import {
  deletePackage,
  exportPackageZip,
  importModelFolder,
  importPackage,
  listPackages,
  loadModelFiles,
  renamePackage,
  verifyPackage,
  locateModel,
  type ModelRef,
} from '../package/index';

export type { ModelRef };
import { importKerasH5, isHdf5File, isKerasArchive } from '../keras/index';
import { importPytorchWeights, sniffWeightsFile } from '../pytorch/index';
import { modelsRoot } from './common';
import { bundledModelsDir } from '../../paths';


function finalPsnr(card: ModelCard): number | null {
  return card.training?.finalMetrics?.psnr ?? null;
}

/** The user's models, then the bundled ones (a bundled id the user also has is hidden behind theirs). */
export async function listModels(input: { modelsDir?: string } = {}): Promise<ModelListItem[]> {
  const own = await listPackages(modelsRoot(input.modelsDir));
  const taken = new Set(own.map((p) => p.id));
  const bundled = (await listPackages(bundledModelsDir())).filter((p) => !taken.has(p.id));
  return [...own.map((p) => ({ p, bundled: false })), ...bundled.map((p) => ({ p, bundled: true }))].map(({ p, bundled }) => ({
    id: p.id,
    name: p.card?.name ?? null,
    arch: p.card?.architecture.id ?? null,
    params: p.card?.params ?? null,
    path: p.dir,
    task: p.card?.task ?? null,
    source: p.card?.source ?? null,
    createdAt: p.card?.createdAt ?? null,
    psnr: p.card ? finalPsnr(p.card) : null,
    error: p.error,
    bundled,
    restores: p.card?.restores ?? null,
  }));
}

/** A model id in the models folder, or a package folder path. MODEL_NOT_FOUND when there is nothing there. */
export function resolveModelRef(spec: string, modelsDir?: string): Promise<ModelRef> {
  return locateModel(spec, modelsDir ? { modelsDir } : {});
}

/** Refuses to change a bundled model (an app update would bring it back; installed apps may be read-only). */
function assertChangeable(ref: ModelRef, action: string): void {
  if (ref.bundled) {
    throw new StudioError(
      'MODEL_READ_ONLY',
      `"${ref.id}" is built into the studio and can't be ${action}. Export it and import the copy to make one of your own.`,
    );
  }
}

export async function showModel(input: { id: string; modelsDir?: string }): Promise<ModelDetails> {
  const ref = await resolveModelRef(input.id, input.modelsDir);
  const card = await verifyPackage(ref.dir); // the card, the files and that the model builds
  const files: { name: string; bytes: number }[] = [];
  for (const name of (await readdir(ref.dir)).sort()) {
    const info = await stat(join(ref.dir, name));
    if (info.isFile()) files.push({ name, bytes: info.size });
  }
  return { id: ref.id, path: ref.dir, card, files, bytes: files.reduce((a, f) => a + f.bytes, 0), bundled: ref.bundled };
}

async function startsWithZipSignature(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await handle.read(buf, 0, 4, 0);
    return bytesRead === 4 && buf[0] === 0x50 && buf[1] === 0x4b && (buf[2] === 3 || buf[2] === 5) && (buf[3] === 4 || buf[3] === 6);
  } finally {
    await handle.close();
  }
}

/** Imports a package zip, a model folder (package, or tfjs layers model.json + weights) or a Keras .h5 file. */
export async function importModel(input: { source: string; name?: string; modelsDir?: string }): Promise<ModelImportResult> {
  const source = resolve(input.source);
  const root = modelsRoot(input.modelsDir);
  let info;
  try {
    info = await stat(source);
  } catch {
    throw new StudioError('NOT_FOUND', `There is nothing to import at ${source}.`);
  }
  const options = input.name ? { name: input.name } : {};
  let kind: ModelImportResult['kind'];
  let saved: { id: string; dir: string; card: ModelCard };
  if (info.isDirectory()) {
    kind = 'folder';
    saved = await importModelFolder(root, source, options);
  } else if ((await isHdf5File(source)) || /\.(h5|hdf5)$/i.test(source) || (await isKerasArchive(source))) {
    // Keras 3 .keras archives are zips too: told from package zips by their config.json + model.weights.h5.
    kind = 'keras';
    saved = await importKerasH5(root, source, options);
  } else if ((await sniffWeightsFile(source)) !== null || /\.(pth|pt|safetensors)$/i.test(source)) {
    // PyTorch weights by content (a PyTorch zip holds data.pkl); a damaged or renamed file with the extension
    // still gets the PyTorch reader's sentence rather than "not a package".
    kind = 'pytorch';
    saved = await importPytorchWeights(root, source, options);
  } else if (await startsWithZipSignature(source)) {
    kind = 'zip';
    saved = await importPackage(root, source, options);
  } else {
    throw new StudioError(
      'MODEL_INVALID',
      `${basename(source)}: is neither a model package zip, a Keras .h5 file nor a model folder.`,
    );
  }
  return { id: saved.id, path: saved.dir, kind, card: saved.card };
}

export async function exportModel(input: { id: string; out: string; modelsDir?: string }): Promise<{ path: string; bytes: number }> {
  const ref = await resolveModelRef(input.id, input.modelsDir);
  const out = resolve(input.out);
  const zip = await exportPackageZip(ref.root, ref.id, out);
  return { path: out, bytes: zip.byteLength };
}

export async function deleteModel(input: { id: string; modelsDir?: string }): Promise<{ id: string; path: string }> {
  const ref = await resolveModelRef(input.id, input.modelsDir);
  assertChangeable(ref, 'deleted');
  await deletePackage(ref.root, ref.id);
  return { id: ref.id, path: ref.dir };
}

export async function renameModel(input: { id: string; name: string; license?: string | null; modelsDir?: string }): Promise<ModelCard> {
  const ref = await resolveModelRef(input.id, input.modelsDir);
  assertChangeable(ref, 'renamed');
  return renamePackage(ref.root, ref.id, input.name, input.license === undefined ? {} : { license: input.license });
}

/** The zoo with sizes at the default hyper-parameters (parameter count, multiply-adds per pixel). */
export function architectureSummaries(): ArchitectureSummary[] {
  return ARCHITECTURE_IDS.map((id) => {
    const arch = getArchitecture(id);
    const stats = arch.stats();
    return { ...arch.info(), params: stats.params, macsPerPixel: stats.macsPerPixel, requiredMultiple: arch.requiredMultiple() };
  });
}

/** The layers of an architecture (built with these hyper-parameters) or of an installed model. */
export async function modelLayers(input: { arch: string; hyper?: HyperParams } | { id: string; modelsDir?: string }): Promise<LayerSummary[]> {
  const model =
    'arch' in input
      ? getArchitecture(input.arch).build(input.hyper ?? {})
      : await loadModelFiles((await resolveModelRef(input.id, input.modelsDir)).dir);
  try {
    return summarizeModel(model);
  } finally {
    model.dispose();
  }
}
