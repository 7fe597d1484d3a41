// Helpers for kernels written by composing existing tfjs ops instead of loops over the data.
//
// Why compose: every op used here (conv2d, depthwiseConv2d, transpose, slice, concat, ...) already has a
// fast native implementation in the wasm backend (XNNPACK / SIMD C++), so a backward kernel expressed in
// those ops runs at the speed of the forward pass, while a per-element loop in JavaScript would run tens
// of times slower.
//
// How it stays leak-free: the engine runs a kernel with gradient recording off (kernelDepth > 0), so the
// ops called inside are not taped. `composeKernel` runs the body in tf.tidy, which disposes every
// intermediate, and hands the single result Tensor back to the engine, which adopts a returned Tensor as
// the kernel output as is (engine.runKernelFunc: `if (outInfo.rank != null) return outInfo`).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/** A TensorInfo handed to a kernel as a Tensor. Kernels invoked by ops already get Tensors; only raw
 * TensorInfos (from other kernels) need wrapping, and the wrapper is tracked by the enclosing tidy. */
export function asTensor<T extends tf.Tensor>(info: TensorInfo): T {
  return (info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info)) as T;
}

export type ComposedBody<A> = (inputs: Record<string, tf.Tensor>, attrs: A) => tf.Tensor;

/** Builds a kernel config whose body is written with ordinary tfjs ops on Tensors. */
export function composeKernel<A>(kernelName: string, backendName: string, body: ComposedBody<A>): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, attrs }: { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap }) =>
    tf.tidy(() => {
      const tensors: Record<string, tf.Tensor> = {};
      for (const [name, info] of Object.entries(inputs)) if (info) tensors[name] = asTensor(info);
      return body(tensors, (attrs ?? {}) as unknown as A);
    });
  return { kernelName, backendName, kernelFunc };
}

export type Pads4 = [[number, number], [number, number], [number, number], [number, number]];

/**
 * Applies per-side amounts to the two spatial axes of an NHWC tensor before a 'valid' correlation:
 * a positive amount is zero padding (returned as the explicit padding for the conv, so no copy is made),
 * a negative amount crops rows/columns the correlation would not read.
 */
export function padOrCrop(
  x: tf.Tensor4D,
  [top, bottom]: [number, number],
  [left, right]: [number, number],
): { x: tf.Tensor4D; pads: Pads4 } {
  const cropTop = Math.max(0, -top);
  const cropBottom = Math.max(0, -bottom);
  const cropLeft = Math.max(0, -left);
  const cropRight = Math.max(0, -right);
  let y = x;
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    const [n, h, w, c] = x.shape;
    y = tf.slice(x, [0, cropTop, cropLeft, 0], [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c]);
  }
  return {
    x: y,
    pads: [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ],
  };
}

export function pair(value: number | [number, number] | number[]): [number, number] {
  return typeof value === 'number' ? [value, value] : [value[0]!, value[1] ?? value[0]!];
}

type PadAttr = 'valid' | 'same' | number | number[][];

/** An NCHW kernel's explicit padding ([[0,0],[0,0],[top,bottom],[left,right]]) in NHWC order; other pads as is. */
export function padToNHWC<P extends PadAttr>(pad: P): P {
  if (!Array.isArray(pad)) return pad;
  return [pad[0], pad[2], pad[3], pad[1]] as P;
}
