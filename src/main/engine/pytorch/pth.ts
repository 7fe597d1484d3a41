// PyTorch .pth / .pt files, both layouts torch.save writes:
//   zip (PyTorch >= 1.6): <name>/data.pkl (the pickle), <name>/data/<key> (raw storages), <name>/byteorder …
//   legacy: pickles in a row — magic number, protocol version, system info, the object, the storage keys —
//           then each storage as an 8-byte element count and its bytes.
// The pickles go through the allowlisting VM (pickle.ts); tensors come back as Float32Arrays.
import { unzipSync } from 'fflate';
import { StudioError } from '#shared/rpc/errors';
import { MAX_ZIP_UNCOMPRESSED } from '../package/zip';
import { PyDict, PyGlobal, PyTuple, unpickle, type PyValue, type StorageRef, type TensorRef } from './pickle';
import { decodeTensor, DTYPE_BYTES, STORAGE_DTYPES, type TorchDtype, type TorchTensor } from './tensor';

/** The legacy format's first pickle: this number (torch/serialization.py MAGIC_NUMBER). */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** A file's top-level object with every tensor decoded (dicts as Maps, lists as arrays). */
export type TorchObject = TorchTensor | Map<string, TorchObject> | TorchObject[] | string | number | boolean | null;

function storageDtype(file: string, type: PyValue): { name: string; dtype: TorchDtype } {
  if (!(type instanceof PyGlobal) || !(type.name in STORAGE_DTYPES)) {
    throw new StudioError('MODEL_INVALID', `${file}: a storage has an unknown type.`);
  }
  return { name: type.name, dtype: STORAGE_DTYPES[type.name]! };
}

function storageTuple(file: string, pid: PyValue): PyValue[] {
  const items = pid instanceof PyTuple ? pid.items : null;
  if (!items || items[0] !== 'storage' || items.length < 5) {
    throw new StudioError('MODEL_INVALID', `${file}: its pickle refers to something that is not a tensor storage.`);
  }
  return items;
}

/** Turns the VM's values into plain data, decoding tensors; anything else is dropped to null. */
function materialise(file: string, value: PyValue, path: string): TorchObject {
  if (value instanceof PyDict) {
    const out = new Map<string, TorchObject>();
    for (const [k, v] of value.map) {
      if (typeof k === 'string' || typeof k === 'number') out.set(String(k), materialise(file, v, `${path}${path ? '.' : ''}${k}`));
    }
    return out;
  }
  if (Array.isArray(value)) return value.map((v, i) => materialise(file, v, `${path}[${i}]`));
  if (value instanceof PyTuple) return value.items.map((v, i) => materialise(file, v, `${path}[${i}]`));
  if (value && typeof value === 'object' && 'kind' in value && value.kind === 'tensor') {
    const t = value as TensorRef;
    const dtype = STORAGE_DTYPES[t.storage.type]!;
    return decodeTensor(file, path, t.storage.bytes, dtype, t);
  }
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  return null;
}

/** Names of a zip's entries, reading none of them. */
export function zipEntryNames(bytes: Uint8Array): string[] {
  const names: string[] = [];
  unzipSync(bytes, {
    filter: (f) => {
      names.push(f.name);
      return false;
    },
  });
  return names;
}

/** The data.pkl entry of a PyTorch zip, or null when the zip is something else. */
export function torchZipRecord(names: string[]): string | null {
  return names.find((n) => /^([^/]+\/)?data\.pkl$/.test(n)) ?? null;
}

export function readTorchZip(file: string, bytes: Uint8Array): TorchObject {
  let entries: Record<string, Uint8Array>;
  let total = 0;
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        total += f.originalSize;
        if (total > MAX_ZIP_UNCOMPRESSED) throw new Error(`more than ${MAX_ZIP_UNCOMPRESSED} bytes uncompressed`);
        return true;
      },
    });
  } catch (error) {
    throw new StudioError('MODEL_INVALID', `${file}: is not a readable PyTorch zip (${(error as Error).message}); it may be truncated.`);
  }
  const record = torchZipRecord(Object.keys(entries));
  if (!record) throw new StudioError('MODEL_INVALID', `${file}: is a zip but holds no data.pkl, so it is not a PyTorch file.`);
  const prefix = record.slice(0, -'data.pkl'.length);
  // torch.jit.save archives hold Python code (code/) and a pickle of the scripted module, not a state dict.
  if (entries[`${prefix}constants.pkl`] || Object.keys(entries).some((n) => n.startsWith(`${prefix}code/`))) {
    throw new StudioError(
      'MODEL_INVALID',
      `${file}: is a TorchScript model (torch.jit.save), which holds code; the studio imports state dicts (torch.save(model.state_dict(), …)).`,
    );
  }
  const order = entries[`${prefix}byteorder`];
  if (order && new TextDecoder().decode(order).trim() === 'big') {
    throw new StudioError('MODEL_INVALID', `${file}: was saved on a big-endian machine, which the studio does not read.`);
  }
  const storages = new Map<string, StorageRef>();
  const value = unpickle(entries[record]!, {
    file,
    persistentLoad: (pid) => {
      const [, type, key] = storageTuple(file, pid);
      const { name, dtype } = storageDtype(file, type ?? null);
      const k = String(key);
      const cached = storages.get(k);
      if (cached) return cached;
      const data = entries[`${prefix}data/${k}`];
      if (!data) throw new StudioError('MODEL_INVALID', `${file}: storage "${k}" is missing from the zip (data/${k}).`);
      const ref: StorageRef = { kind: 'storage', type: name, key: k, numel: Math.floor(data.length / DTYPE_BYTES[dtype]), bytes: data };
      storages.set(k, ref);
      return ref;
    },
  }).value;
  return materialise(file, value, '');
}

/**
 * True when the bytes start like a legacy torch.save file: a binary pickle (protocol 2 by default, up to 5
 * with pickle_protocol=…). readLegacyPth then checks PyTorch's magic number.
 */
export function looksLikeLegacyPth(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5;
}

export function readLegacyPth(file: string, bytes: Uint8Array): TorchObject {
  const magic = unpickle(bytes, { file });
  if (magic.value !== LEGACY_MAGIC) {
    throw new StudioError('MODEL_INVALID', `${file}: starts with a pickle but not PyTorch's magic number, so it is not a .pth file.`);
  }
  const protocol = unpickle(bytes, { file, offset: magic.end });
  if (protocol.value !== LEGACY_PROTOCOL) {
    throw new StudioError('MODEL_INVALID', `${file}: is a PyTorch file of protocol ${String(protocol.value)}, which the studio does not read.`);
  }
  const info = unpickle(bytes, { file, offset: protocol.end });
  if (info.value instanceof PyDict && info.value.map.get('little_endian') === false) {
    throw new StudioError('MODEL_INVALID', `${file}: was saved on a big-endian machine, which the studio does not read.`);
  }
  // Storages are known only after the key list, which follows the object: record the references first.
  const pending = new Map<string, StorageRef>();
  const views: { ref: StorageRef; root: string; offset: number }[] = [];
  const main = unpickle(bytes, {
    file,
    offset: info.end,
    persistentLoad: (pid) => {
      const items = storageTuple(file, pid);
      const [, type, key, , numel, view] = items;
      const { name } = storageDtype(file, type ?? null);
      const root = String(key);
      let ref = pending.get(root);
      if (!ref) {
        ref = { kind: 'storage', type: name, key: root, numel: Number(numel), bytes: new Uint8Array(0) };
        pending.set(root, ref);
      }
      // Pre-1.0 views of a storage: (view key, offset, size).
      if (view instanceof PyTuple) {
        const [viewKey, offset, size] = view.items;
        const viewRef: StorageRef = { kind: 'storage', type: name, key: String(viewKey), numel: Number(size), bytes: new Uint8Array(0) };
        views.push({ ref: viewRef, root, offset: Number(offset) });
        return viewRef;
      }
      return ref;
    },
  });
  const keys = unpickle(bytes, { file, offset: main.end });
  if (!Array.isArray(keys.value)) throw new StudioError('MODEL_INVALID', `${file}: has no list of storages after its object; it is damaged.`);
  const dataView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value) {
    const ref = pending.get(String(key));
    if (pos + 8 > bytes.length) {
      throw new StudioError('MODEL_INVALID', `${file}: is truncated (storage "${String(key)}" is missing its data).`);
    }
    const numel = Number(dataView.getBigUint64(pos, true));
    pos += 8;
    const size = ref ? DTYPE_BYTES[STORAGE_DTYPES[ref.type]!] : 0;
    if (!ref) throw new StudioError('MODEL_INVALID', `${file}: lists storage "${String(key)}" that no tensor uses; it is damaged.`);
    const length = numel * size;
    if (pos + length > bytes.length) {
      throw new StudioError('MODEL_INVALID', `${file}: is truncated (storage "${ref.key}" needs ${length} bytes, ${bytes.length - pos} remain).`);
    }
    ref.bytes = bytes.subarray(pos, pos + length);
    ref.numel = numel;
    pos += length;
  }
  for (const v of views) {
    const root = pending.get(v.root)!;
    const size = DTYPE_BYTES[STORAGE_DTYPES[root.type]!];
    v.ref.bytes = root.bytes.subarray(v.offset * size, (v.offset + v.ref.numel) * size);
  }
  return materialise(file, main.value, '');
}
