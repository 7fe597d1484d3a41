// Export a package as a zip, import a zip or a plain tfjs layers model folder (model.json + weight files,
// with or without card.json). Imports are validated completely (the model is loaded) and re-saved in the
// package layout (model.json + weights.bin + card.json) under a fresh id.
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import { MODEL_CARD_FORMAT_VERSION, type ModelCard } from '#shared/model-card';
import { countMacs } from '../models/macs';
import { writeFileAtomic } from '../../fs-atomic';
import { loadModelFiles, MODEL_JSON, readArtifacts } from './model-io';
import { addPackage, CARD_JSON, guessTask, readCard, slugify, verifyPackage } from './packages';

/** Largest total uncompressed size accepted from a zip (guards against zip bombs). */
export const MAX_ZIP_UNCOMPRESSED = 2 * 1024 ** 3;

/** Zips a package folder (files under a top folder named after the id). Writes `zipPath` when given. */
export async function exportPackageZip(root: string, id: string, zipPath?: string): Promise<Uint8Array> {
  const dir = join(root, id);
  const card = await verifyPackage(dir);
  const artifacts = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  const files = [CARD_JSON, MODEL_JSON, ...artifacts.weightsManifest.flatMap((g) => g.paths)];
  const entries: Zippable = {};
  for (const name of files) entries[`${id}/${name}`] = new Uint8Array(await readFile(join(dir, name)));
  const zip = zipSync(entries, { level: 6, mtime: new Date(card.createdAt) });
  if (zipPath) await writeFileAtomic(zipPath, zip);
  return zip;
}

function safeEntry(name: string): string[] | null {
  const parts = name.split('/').filter((p) => p.length > 0);
  if (name.startsWith('/') || name.includes('\\') || parts.some((p) => p === '..' || p === '.' || p.includes('\0'))) return null;
  return parts;
}

/** Unpacks a zip's model folder (the one holding model.json) into `target`. */
async function unpackZip(zipPath: string, target: string): Promise<void> {
  let data: Uint8Array;
  try {
    data = new Uint8Array(await readFile(zipPath));
  } catch (error) {
    throw new StudioError('NOT_FOUND', `Cannot read ${zipPath}: ${(error as Error).message}`);
  }
  let total = 0;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(data, {
      filter: (file) => {
        total += file.originalSize;
        if (total > MAX_ZIP_UNCOMPRESSED) throw new Error(`more than ${MAX_ZIP_UNCOMPRESSED} bytes uncompressed`);
        return !file.name.endsWith('/');
      },
    });
  } catch (error) {
    throw new StudioError('MODEL_INVALID', `${basename(zipPath)} is not a readable zip: ${(error as Error).message}`);
  }
  const names = Object.keys(entries);
  for (const name of names) {
    if (!safeEntry(name)) throw new StudioError('MODEL_INVALID', `${basename(zipPath)} contains an unsafe path "${name}".`);
  }
  const modelJsons = names.filter((n) => n.split('/').pop() === MODEL_JSON && !n.split('/').some((p) => p.startsWith('__MACOSX')));
  if (modelJsons.length === 0) throw new StudioError('MODEL_INVALID', `${basename(zipPath)} contains no ${MODEL_JSON}.`);
  if (modelJsons.length > 1) {
    throw new StudioError('MODEL_INVALID', `${basename(zipPath)} contains ${modelJsons.length} models (${modelJsons.join(', ')}); import them one at a time.`);
  }
  const prefix = modelJsons[0]!.slice(0, -MODEL_JSON.length);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    if (rest.includes('/')) continue; // only the model folder's own files
    await writeFile(join(target, rest), entries[name]!);
  }
}

/** A card for a foreign tfjs model that came without one. */
function foreignCard(model: Awaited<ReturnType<typeof loadModelFiles>>, name: string): ModelCard {
  const shape = (model.inputs[0]?.shape ?? []) as (number | null)[];
  const [, h, w, c] = shape;
  return {
    formatVersion: MODEL_CARD_FORMAT_VERSION,
    id: slugify(name),
    name,
    task: guessTask(model),
    architecture: { id: 'external', hyper: {}, channels: typeof c === 'number' ? c : 3, requiredMultiple: 1, padsInternally: false },
    restores: { preset: null, description: '' },
    training: null,
    createdAt: new Date().toISOString(),
    params: model.countParams(),
    macsPerPixel: typeof h === 'number' && typeof w === 'number' ? countMacs(model, h, w) : null,
    source: 'imported-tfjs',
  };
}

/** Imports a package folder or a plain tfjs layers model folder (model.json + weights) into `root`. */
export async function importModelFolder(root: string, folder: string, options: { name?: string } = {}): Promise<{ id: string; dir: string; card: ModelCard }> {
  await readArtifacts(folder); // precise MODEL_INVALID errors before anything else
  const hasCard = await stat(join(folder, CARD_JSON)).then(
    () => true,
    () => false,
  );
  const card = hasCard ? await readCard(folder) : null;
  const model = await loadModelFiles(folder);
  try {
    if (card && card.params !== model.countParams()) {
      throw new StudioError('MODEL_INVALID', `${CARD_JSON} in ${folder} says ${card.params} parameters but ${MODEL_JSON} has ${model.countParams()}.`);
    }
    const name = options.name ?? card?.name ?? basename(folder);
    const next: ModelCard = card ? { ...card, name } : foreignCard(model, name);
    return await addPackage(root, model, next, card ? card.id : slugify(name));
  } finally {
    model.dispose();
  }
}

/** Imports a zip (exported package or zipped tfjs model folder) or a folder into `root`. */
export async function importPackage(root: string, source: string, options: { name?: string } = {}): Promise<{ id: string; dir: string; card: ModelCard }> {
  let info;
  try {
    info = await stat(source);
  } catch {
    throw new StudioError('NOT_FOUND', `There is nothing to import at ${source}.`);
  }
  if (info.isDirectory()) return importModelFolder(root, source, options);
  await mkdir(root, { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'studio-import-'));
  try {
    await unpackZip(source, tmp);
    const fallbackName = basename(source).replace(/\.zip$/i, '');
    const hasCard = (await readdir(tmp)).includes(CARD_JSON);
    return await importModelFolder(root, tmp, { name: options.name ?? (hasCard ? undefined : fallbackName) });
  } catch (error) {
    // Name the zip, not the temporary folder, in error messages.
    if (error instanceof StudioError) throw new StudioError(error.code, error.message.split(tmp).join(basename(source)), error.details);
    throw error;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
