// Tile and Slice for wasm as plain memory copies on the wasm heap.
//
// tfjs-backend-wasm 4.22's versions are slow where training needs them:
//  - Slice and SplitV (behind slice, split and several gradients) start with backend.readSync(x), which
//    copies the whole input out of the wasm heap into a new JavaScript array before copying the slice:
//    ~30 ms to split a 2M-value activation in two (NAFNet's SimpleGate does that in every block);
//  - Tile (tfjs-layers' LayerNormalization tiles gamma and beta to the whole input, and batch norm's
//    gradient tiles too) runs an index-arithmetic loop per value: ~65 ms per [16, 64, 64, 32] tensor, 2.5 s
//    of a 9 s nafnet-tiny training step.
// These versions read and write typed-array views of the heap directly (taken after the output is
// allocated, since an allocation can grow and move the heap) and copy contiguous runs with
// TypedArray.set / copyWithin. Strings keep the package's kernels.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, Slice, slice_util, SplitV, Tile, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type HeapBackend = Pick<BackendWasm, 'makeOutput' | 'typedArrayFromHeap'>;
type Typed = Float32Array | Int32Array | Uint8Array;

/** Copies the box [begin, begin + size) of `src` (shape `srcShape`) into `dst` at the box [at, at + size) of `dstShape`. */
function copyBox(src: Typed, srcShape: number[], begin: number[], dst: Typed, dstShape: number[], at: number[], size: number[]): void {
  const rank = size.length;
  if (size.some((s) => s === 0)) return;
  if (rank === 0) {
    dst[0] = src[0]!;
    return;
  }
  const srcStrides = [...util.computeStrides(srcShape), 1];
  const dstStrides = [...util.computeStrides(dstShape), 1];
  // Merge trailing axes that are whole in both tensors into one contiguous run.
  let runAxis = rank - 1;
  let run = size[rank - 1]!;
  while (runAxis > 0 && size[runAxis]! === srcShape[runAxis]! && size[runAxis]! === dstShape[runAxis]!) {
    runAxis--;
    run *= size[runAxis]!;
  }
  const index = new Array<number>(runAxis).fill(0);
  for (;;) {
    let s = begin[runAxis]! * srcStrides[runAxis]!;
    let d = at[runAxis]! * dstStrides[runAxis]!;
    for (let i = 0; i < runAxis; i++) {
      s += (begin[i]! + index[i]!) * srcStrides[i]!;
      d += (at[i]! + index[i]!) * dstStrides[i]!;
    }
    dst.set(src.subarray(s, s + run), d);
    let axis = runAxis - 1;
    while (axis >= 0 && ++index[axis]! === size[axis]!) index[axis--] = 0;
    if (axis < 0) return;
  }
}

function fallback(name: string): KernelFunc {
  const native = tf.getKernel(name, 'wasm');
  if (!native) throw new Error(`tfjs-backend-wasm must be imported before the project's ${name} kernel`);
  return native.kernelFunc;
}

export function sliceConfig(): KernelConfig {
  const native = tf.getKernel(Slice, 'wasm');
  const nativeFunc = fallback(Slice);
  return {
    kernelName: Slice,
    backendName: 'wasm',
    setupFunc: native?.setupFunc,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype === 'string') return nativeFunc(args);
      const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
      const [begin_, size_] = slice_util.parseSliceParams(x as tf.Tensor, begin, size) as [number[], number[]];
      const backend = args.backend as unknown as HeapBackend;
      const out = backend.makeOutput(size_, x.dtype);
      copyBox(backend.typedArrayFromHeap(x), x.shape, begin_, backend.typedArrayFromHeap(out), size_, size_.map(() => 0), size_);
      return out;
    },
  };
}

export function splitConfig(): KernelConfig {
  const native = tf.getKernel(SplitV, 'wasm');
  const nativeFunc = fallback(SplitV);
  return {
    kernelName: SplitV,
    backendName: 'wasm',
    setupFunc: native?.setupFunc,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype === 'string') return nativeFunc(args);
      const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
      const $axis = util.parseAxisParam(axis, x.shape)[0]!;
      const sizes = backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, $axis);
      const backend = args.backend as unknown as HeapBackend;
      const begin = x.shape.map(() => 0);
      return sizes.map((s) => {
        const size = [...x.shape];
        size[$axis] = s;
        const out = backend.makeOutput(size, x.dtype);
        copyBox(backend.typedArrayFromHeap(x), x.shape, begin, backend.typedArrayFromHeap(out), size, size.map(() => 0), size);
        begin[$axis]! += s;
        return out;
      });
    },
  };
}

export function tileConfig(): KernelConfig {
  const native = tf.getKernel(Tile, 'wasm');
  const nativeFunc = fallback(Tile);
  return {
    kernelName: Tile,
    backendName: 'wasm',
    setupFunc: native?.setupFunc,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype === 'string') return nativeFunc(args);
      const reps = args.attrs!.reps as number[];
      const shape = x.shape.map((s, i) => s * reps[i]!);
      const backend = args.backend as unknown as HeapBackend;
      const out = backend.makeOutput(shape, x.dtype);
      const dst = backend.typedArrayFromHeap(out);
      if (dst.length === 0) return out;
      // x into the corner, then repeat along each axis from the last: along axis i, every block
      // [j0, .., j(i-1), 0:x_i, <axes after i, already complete>] is contiguous, and doubling copies
      // (copyWithin) fill its repetitions.
      const zeros = x.shape.map(() => 0);
      copyBox(backend.typedArrayFromHeap(x), x.shape, zeros, dst, shape, zeros, x.shape);
      const strides = [...util.computeStrides(shape), 1];
      for (let axis = x.shape.length - 1; axis >= 0; axis--) {
        if (reps[axis]! === 1) continue;
        const block = x.shape[axis]! * strides[axis]!;
        const full = shape[axis]! * strides[axis]!;
        const outer = x.shape.slice(0, axis);
        const index = new Array<number>(axis).fill(0);
        for (;;) {
          let start = 0;
          for (let i = 0; i < axis; i++) start += index[i]! * strides[i]!;
          for (let filled = block; filled < full; filled *= 2) dst.copyWithin(start + filled, start, start + Math.min(filled, full - filled));
          let a = axis - 1;
          while (a >= 0 && ++index[a]! === outer[a]!) index[a--] = 0;
          if (a < 0) break;
        }
      }
      return out;
    },
  };
}
