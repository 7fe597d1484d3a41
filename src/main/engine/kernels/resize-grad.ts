// Resize gradients. The 4.22 backends get some of these wrong (found by probe.ts, confirmed against the
// exact adjoint of the forward resize):
//   cpu  ResizeNearestNeighborGrad  sums the wrong rows for every image after the first of a batch, so
//                                   UpSampling2D trains with wrong gradients at batch size > 1 (silently);
//   cpu  ResizeBilinearGrad         returns a transposed shape when height != width (training throws);
//   wasm ResizeNearestNeighborGrad, ResizeBilinearGrad  ignore halfPixelCenters.
// So these replace both backends' versions.
//
// Both resizes are separable and linear: out[r, c] = sum over i, j of R[r, i] * C[c, j] * x[i, j], with
// interpolation matrices R (rows) and C (columns) built by the forward op's own index rule. So
//   dx = Rᵀ · dy · C,   two matMuls on transposed views of dy.
// Integer nearest-neighbour upscaling (every input pixel becomes an f x g block, UpSampling2D's case) is a
// sum over blocks instead: avgPool(dy, [f, g], stride [f, g]) * f*g.
import * as tf from '@tensorflow/tfjs-core';
import { ResizeBilinearGrad, ResizeNearestNeighborGrad } from '@tensorflow/tfjs-core';
import type { ResizeBilinearGradAttrs, ResizeNearestNeighborGradAttrs } from '@tensorflow/tfjs-core';
import { composeKernel } from './compose';

interface ResizeRule {
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

function ratio(inSize: number, outSize: number, { alignCorners }: ResizeRule): number {
  const effectiveIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effectiveOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  return effectiveIn / effectiveOut;
}

/** The input index each output index copies, as tfjs's ResizeNearestNeighbor computes it. */
export function nearestSources(inSize: number, outSize: number, rule: ResizeRule): number[] {
  const k = ratio(inSize, outSize, rule);
  return Array.from({ length: outSize }, (_, r) => {
    const frac = rule.halfPixelCenters ? k * (r + 0.5) : k * r;
    const src = Math.min(inSize - 1, rule.alignCorners ? Math.round(frac) : Math.floor(frac));
    return rule.halfPixelCenters ? Math.max(0, src) : src;
  });
}

// Weight matrices are built transposed, [inSize, outSize] (entry [i, r]: how much output index r takes
// from input index i), so the matMuls need no transposed operand (wasm has no fast path for one).

/** Transposed interpolation weights of one axis, as tfjs's ResizeBilinear computes them. */
export function bilinearWeightsT(inSize: number, outSize: number, rule: ResizeRule): Float32Array {
  const k = ratio(inSize, outSize, rule);
  const w = new Float32Array(inSize * outSize);
  for (let r = 0; r < outSize; r++) {
    const frac = rule.halfPixelCenters ? k * (r + 0.5) - 0.5 : k * r;
    const floor = Math.max(0, Math.floor(frac));
    const ceil = Math.min(inSize - 1, Math.ceil(frac));
    const t = frac - floor;
    w[floor * outSize + r] = w[floor * outSize + r]! + (1 - t);
    w[ceil * outSize + r] = w[ceil * outSize + r]! + t;
  }
  return w;
}

function nearestWeightsT(inSize: number, outSize: number, rule: ResizeRule): Float32Array {
  const w = new Float32Array(inSize * outSize);
  nearestSources(inSize, outSize, rule).forEach((s, r) => {
    w[s * outSize + r] = 1;
  });
  return w;
}

/** The block size f when output index r copies input floor(r / f) for every r, else null. */
function blockFactor(sources: number[], inSize: number): number | null {
  const f = sources.length / inSize;
  return Number.isInteger(f) && sources.every((s, r) => s === Math.floor(r / f)) ? f : null;
}

/** dx = Rᵀ · dy · C, given Rᵀ as [inH, outH] and Cᵀ as [inW, outW]. */
function separableAdjoint(dy: tf.Tensor4D, inH: number, inW: number, rowsT: Float32Array, colsT: Float32Array): tf.Tensor4D {
  const [n, outH, outW, c] = dy.shape;
  const byRow = tf.reshape(tf.transpose(dy, [1, 0, 2, 3]), [outH, n * outW * c]);
  const r = tf.matMul(tf.tensor2d(rowsT, [inH, outH]), byRow);
  const byCol = tf.reshape(tf.transpose(tf.reshape(r, [inH, n, outW, c]), [2, 0, 1, 3]), [outW, inH * n * c]);
  const cc = tf.matMul(tf.tensor2d(colsT, [inW, outW]), byCol);
  return tf.transpose(tf.reshape(cc, [inW, inH, n, c]), [2, 1, 0, 3]) as tf.Tensor4D;
}

export function resizeNearestGrad(dy: tf.Tensor4D, inShape: number[], rule: ResizeRule): tf.Tensor4D {
  const [, inH, inW] = inShape as [number, number, number, number];
  const [, outH, outW] = dy.shape;
  const f = blockFactor(nearestSources(inH, outH, rule), inH);
  const g = blockFactor(nearestSources(inW, outW, rule), inW);
  if (f !== null && g !== null) {
    if (f === 1 && g === 1) return tf.clone(dy);
    return tf.mul(tf.avgPool(dy, [f, g], [f, g], 'valid'), f * g) as tf.Tensor4D;
  }
  return separableAdjoint(dy, inH, inW, nearestWeightsT(inH, outH, rule), nearestWeightsT(inW, outW, rule));
}

export function resizeBilinearGrad(dy: tf.Tensor4D, inShape: number[], rule: ResizeRule): tf.Tensor4D {
  const [, inH, inW] = inShape as [number, number, number, number];
  const [, outH, outW] = dy.shape;
  return separableAdjoint(dy, inH, inW, bilinearWeightsT(inH, outH, rule), bilinearWeightsT(inW, outW, rule));
}

export const resizeNearestGradConfigs = (['cpu', 'wasm'] as const).map((backend) =>
  composeKernel<ResizeNearestNeighborGradAttrs>(ResizeNearestNeighborGrad, backend, ({ images, dy }, attrs) =>
    resizeNearestGrad(dy as tf.Tensor4D, images!.shape, attrs),
  ),
);

export const resizeBilinearGradConfigs = (['cpu', 'wasm'] as const).map((backend) =>
  composeKernel<ResizeBilinearGradAttrs>(ResizeBilinearGrad, backend, ({ images, dy }, attrs) =>
    resizeBilinearGrad(dy as tf.Tensor4D, images!.shape, attrs),
  ),
);
