// Raw tensor bytes → Float32Array: fp32, fp16, bf16, fp64 (and integer tensors such as BatchNorm's
// num_batches_tracked), little-endian, honouring a view's storage offset, sizes and strides.
import { StudioError } from '#shared/rpc/errors';

export type TorchDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** A tensor of a state dict, in PyTorch's layout (row-major over `shape`, e.g. conv weights OIHW). */
export interface TorchTensor {
  dtype: TorchDtype;
  shape: number[];
  data: Float32Array;
}

/** Tensors by key, in file order. */
export type StateDict = Map<string, TorchTensor>;

export const DTYPE_BYTES: Record<TorchDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export const STORAGE_DTYPES: Record<string, TorchDtype> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** IEEE half → float (subnormals, infinities and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

let HALF_TABLE: Float32Array | null = null;
function halfTable(): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) HALF_TABLE[i] = halfToFloat(i);
  }
  return HALF_TABLE;
}

/** Decodes `count` elements starting at element `start` of `bytes` (contiguous). */
function decodeRun(bytes: Uint8Array, dtype: TorchDtype, start: number, count: number, out: Float32Array, outAt: number): void {
  const size = DTYPE_BYTES[dtype];
  const byteStart = bytes.byteOffset + start * size;
  const view = new DataView(bytes.buffer, byteStart, count * size);
  switch (dtype) {
    case 'F32':
      if (byteStart % 4 === 0) out.set(new Float32Array(bytes.buffer, byteStart, count), outAt);
      else for (let i = 0; i < count; i++) out[outAt + i] = view.getFloat32(i * 4, true);
      return;
    case 'F16': {
      const table = halfTable();
      for (let i = 0; i < count; i++) out[outAt + i] = table[view.getUint16(i * 2, true)]!;
      return;
    }
    case 'BF16': {
      // bf16 is the top half of a float32.
      const word = new Uint32Array(1);
      const f = new Float32Array(word.buffer);
      for (let i = 0; i < count; i++) {
        word[0] = view.getUint16(i * 2, true) << 16;
        out[outAt + i] = f[0]!;
      }
      return;
    }
    case 'F64':
      for (let i = 0; i < count; i++) out[outAt + i] = view.getFloat64(i * 8, true);
      return;
    case 'I64':
      for (let i = 0; i < count; i++) out[outAt + i] = Number(view.getBigInt64(i * 8, true));
      return;
    case 'I32':
      for (let i = 0; i < count; i++) out[outAt + i] = view.getInt32(i * 4, true);
      return;
    case 'I16':
      for (let i = 0; i < count; i++) out[outAt + i] = view.getInt16(i * 2, true);
      return;
    case 'I8':
      for (let i = 0; i < count; i++) out[outAt + i] = view.getInt8(i);
      return;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i++) out[outAt + i] = view.getUint8(i);
      return;
  }
}

/** 1 GiB of float32 in one tensor: far beyond any restorer's largest weight. */
const MAX_ELEMENTS = 2 ** 28;

/** Row-major strides of a shape. */
export function contiguousStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/**
 * A view of `bytes` (a storage of `dtype`) as a row-major Float32Array. Non-contiguous views (a transposed
 * tensor saved as is) are gathered element by element; the innermost contiguous run is copied at once.
 */
export function decodeTensor(
  file: string,
  key: string,
  bytes: Uint8Array,
  dtype: TorchDtype,
  view: { offset: number; shape: number[]; stride: number[] },
): TorchTensor {
  const { offset, shape, stride } = view;
  if (shape.some((d) => !Number.isInteger(d) || d < 0) || stride.length !== shape.length || offset < 0) {
    throw new StudioError('MODEL_INVALID', `${file}: tensor "${key}" has an invalid shape [${shape.join(', ')}].`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  // Strides of 0 (expanded tensors) make a small storage look huge: cap what one tensor may claim.
  if (count > MAX_ELEMENTS) {
    throw new StudioError('MODEL_INVALID', `${file}: tensor "${key}" claims ${count} elements, more than any image model's weights; the file is damaged.`);
  }
  const available = Math.floor(bytes.length / DTYPE_BYTES[dtype]);
  // The last element the view reaches must lie inside the storage.
  const last = count === 0 ? offset : offset + shape.reduce((acc, d, i) => acc + (d - 1) * stride[i]!, 0);
  if (count > 0 && (last >= available || stride.some((s) => s < 0))) {
    throw new StudioError(
      'MODEL_INVALID',
      `${file}: tensor "${key}" [${shape.join(', ')}] reaches past its data (${available} elements stored); the file is truncated or damaged.`,
    );
  }
  const out = new Float32Array(count);
  if (count === 0) return { dtype, shape, data: out };
  const want = contiguousStrides(shape);
  if (shape.every((d, i) => d === 1 || stride[i] === want[i])) {
    decodeRun(bytes, dtype, offset, count, out, 0);
    return { dtype, shape, data: out };
  }
  // Gather: walk every index but the innermost, copying the innermost dimension as a run when its stride is 1.
  const rank = shape.length;
  const inner = shape[rank - 1]!;
  const innerStride = stride[rank - 1]!;
  const outer = count / inner;
  const index = new Array<number>(rank - 1).fill(0);
  for (let o = 0; o < outer; o++) {
    let base = offset;
    for (let i = 0; i < rank - 1; i++) base += index[i]! * stride[i]!;
    if (innerStride === 1) decodeRun(bytes, dtype, base, inner, out, o * inner);
    else for (let j = 0; j < inner; j++) decodeRun(bytes, dtype, base + j * innerStride, 1, out, o * inner + j);
    for (let i = rank - 2; i >= 0; i--) {
      if (++index[i]! < shape[i]!) break;
      index[i] = 0;
    }
  }
  return { dtype, shape, data: out };
}
