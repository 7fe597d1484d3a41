// From a weights file to the flat state dict an architecture reads: sniff the format, read it, unwrap the
// training wrappers ({"params_ema": …}, {"state_dict": …, "epoch": 7}) and strip the prefixes that
// DataParallel ("module.") and GAN trainers ("netG.") add to every key.
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { StudioError } from '#shared/rpc/errors';
import { looksLikeLegacyPth, readLegacyPth, readTorchZip, torchZipRecord, zipEntryNames, type TorchObject } from './pth';
import { readSafetensors, safetensorsHeaderLength } from './safetensors';
import type { StateDict, TorchTensor } from './tensor';

export type WeightsFormat = 'pth' | 'safetensors';

/** Wrapper keys, in the order a file is searched (params_ema holds the better, averaged weights). */
const WRAPPERS = ['params_ema', 'params', 'state_dict', 'model_state_dict', 'model', 'net', 'generator', 'netG'];
const PREFIXES = ['module.', 'netG.', 'model.module.'];

function isZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5) && (head[3] === 4 || head[3] === 6);
}

/** What kind of weights file `path` is, by content (the extension is not trusted), or null. */
export async function sniffWeightsFile(path: string): Promise<WeightsFormat | null> {
  const handle = await open(path, 'r');
  let head: Uint8Array;
  try {
    const buf = Buffer.alloc(16);
    const { bytesRead } = await handle.read(buf, 0, 16, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (looksLikeLegacyPth(head)) return 'pth';
  if (safetensorsHeaderLength(head) !== null) return 'safetensors';
  if (isZip(head)) {
    try {
      return torchZipRecord(zipEntryNames(new Uint8Array(await readFile(path)))) ? 'pth' : null;
    } catch {
      // An unreadable zip with a .pth name is still most likely a damaged PyTorch file.
      return /\.(pth|pt)$/i.test(path) ? 'pth' : null;
    }
  }
  return null;
}

function isTensor(v: TorchObject | undefined): v is TorchTensor {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && 'data' in v;
}

function tensorsOf(map: Map<string, TorchObject>): StateDict {
  const out: StateDict = new Map();
  for (const [k, v] of map) if (isTensor(v)) out.set(k, v);
  return out;
}

/** The state dict inside a loaded object: the map itself, or one under a wrapper key. */
export function unwrapStateDict(file: string, root: TorchObject): StateDict {
  if (!(root instanceof Map)) {
    throw new StudioError('MODEL_INVALID', `${file}: holds ${Array.isArray(root) ? 'a list' : isTensor(root) ? 'a single tensor' : 'no dictionary'}, not a state dict of weights.`);
  }
  let current: Map<string, TorchObject> = root;
  // Wrappers nest at most a couple of levels ({"model": {"state_dict": …}}).
  for (let depth = 0; depth < 4; depth++) {
    const own = tensorsOf(current);
    const wrapped = WRAPPERS.map((k) => current.get(k)).find((v): v is Map<string, TorchObject> => v instanceof Map);
    if (own.size > 0 && (!wrapped || own.size >= tensorsOf(wrapped).size)) return stripPrefixes(own);
    if (!wrapped) break;
    current = wrapped;
  }
  const own = tensorsOf(current);
  if (own.size > 0) return stripPrefixes(own);
  const keys = [...root.keys()].slice(0, 8);
  throw new StudioError('MODEL_INVALID', `${file}: holds no weights (its keys: ${keys.join(', ') || 'none'}).`);
}

/** Removes a prefix every key shares ("module.", "netG."), repeatedly ("module.netG."). */
export function stripPrefixes(state: StateDict): StateDict {
  let current = state;
  for (;;) {
    const keys = [...current.keys()];
    const prefix = PREFIXES.find((p) => keys.length > 0 && keys.every((k) => k.startsWith(p)));
    if (!prefix) return current;
    current = new Map([...current].map(([k, v]) => [k.slice(prefix.length), v]));
  }
}

export interface WeightsFile {
  format: WeightsFormat;
  state: StateDict;
  /** safetensors __metadata__ (empty for .pth). */
  metadata: Record<string, string>;
  /** Of the file's bytes, for the card. */
  sha256: string;
}

/** Reads a .pth / .pt / .safetensors file into a flat state dict. Errors name the file (its base name). */
export async function readWeightsFile(path: string): Promise<WeightsFile> {
  const file = basename(path);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new StudioError('NOT_FOUND', `Cannot read ${path}: ${(error as Error).message}`);
  }
  return { ...parseWeights(file, bytes), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Parses a weights file's bytes; `file` names it in errors. */
export function parseWeights(file: string, bytes: Uint8Array): Omit<WeightsFile, 'sha256'> {
  const head = bytes.subarray(0, 16);
  if (looksLikeLegacyPth(head)) return { format: 'pth', state: unwrapStateDict(file, readLegacyPth(file, bytes)), metadata: {} };
  if (safetensorsHeaderLength(head) !== null) {
    const { tensors, metadata } = readSafetensors(file, bytes);
    if (tensors.size === 0) throw new StudioError('MODEL_INVALID', `${file}: holds no tensors.`);
    return { format: 'safetensors', state: stripPrefixes(tensors), metadata };
  }
  if (isZip(head)) return { format: 'pth', state: unwrapStateDict(file, readTorchZip(file, bytes)), metadata: {} };
  throw new StudioError(
    'MODEL_INVALID',
    `${file}: is not a PyTorch .pth or .safetensors file (it starts with neither a zip, a pickle nor a safetensors header).`,
  );
}
