// .safetensors: an 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
// then the tensors' bytes (offsets relative to the end of the header). Data only, no code: the format was
// made so weights can be shared without pickle.
import { StudioError } from '#shared/rpc/errors';
import { decodeTensor, contiguousStrides, DTYPE_BYTES, type StateDict, type TorchDtype } from './tensor';

/** Headers are small (a few hundred bytes per tensor); anything far larger is not a safetensors file. */
const MAX_HEADER = 100 * 1024 * 1024;

const DTYPES: Record<string, TorchDtype> = {
  F32: 'F32',
  F16: 'F16',
  BF16: 'BF16',
  F64: 'F64',
  I64: 'I64',
  I32: 'I32',
  I16: 'I16',
  I8: 'I8',
  U8: 'U8',
  BOOL: 'BOOL',
};

/** The header length when the bytes start like a safetensors file, else null. */
export function safetensorsHeaderLength(head: Uint8Array): number | null {
  if (head.length < 9) return null;
  const n = new DataView(head.buffer, head.byteOffset, head.byteLength).getBigUint64(0, true);
  if (n < 2n || n > BigInt(MAX_HEADER) || head[8] !== 0x7b /* { */) return null;
  // A truncated file still sniffs as safetensors, so the reader can say it is truncated.
  return Number(n);
}

export function readSafetensors(file: string, bytes: Uint8Array): { tensors: StateDict; metadata: Record<string, string> } {
  const length = safetensorsHeaderLength(bytes);
  if (length === null) throw new StudioError('MODEL_INVALID', `${file}: does not start with a safetensors header.`);
  if (8 + length > bytes.length) {
    throw new StudioError('MODEL_INVALID', `${file}: is truncated (its header claims ${length} bytes, the file has ${bytes.length - 8} after the length).`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  } catch (error) {
    throw new StudioError('MODEL_INVALID', `${file}: its safetensors header is not valid JSON (${(error as Error).message}).`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new StudioError('MODEL_INVALID', `${file}: its safetensors header is not a JSON object.`);
  }
  const data = bytes.subarray(8 + length);
  const tensors: StateDict = new Map();
  let metadata: Record<string, string> = {};
  for (const [key, raw] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (raw && typeof raw === 'object') metadata = raw as Record<string, string>;
      continue;
    }
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof entry?.dtype === 'string' ? DTYPES[entry.dtype] : undefined;
    if (!dtype) throw new StudioError('MODEL_INVALID', `${file}: tensor "${key}" has dtype ${JSON.stringify(entry?.dtype)}, which the studio does not read.`);
    const shape = entry.shape;
    const offsets = entry.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) || !Array.isArray(offsets) || offsets.length !== 2) {
      throw new StudioError('MODEL_INVALID', `${file}: tensor "${key}" has no valid shape and data_offsets in the header.`);
    }
    const [start, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (!Number.isInteger(start) || !Number.isInteger(end) || end - start !== count * DTYPE_BYTES[dtype]) {
      throw new StudioError('MODEL_INVALID', `${file}: tensor "${key}" has data_offsets that do not fit its shape [${shape.join(', ')}].`);
    }
    if (end > data.length) {
      throw new StudioError('MODEL_INVALID', `${file}: is truncated (tensor "${key}" ends at byte ${end} of ${data.length} bytes of data).`);
    }
    const dims = shape as number[];
    tensors.set(key, decodeTensor(file, key, data.subarray(start, end), dtype, { offset: 0, shape: dims, stride: contiguousStrides(dims) }));
  }
  return { tensors, metadata };
}
