// Kernels the project supplies to tfjs backends, so that every model of the zoo trains on wasm (and
// trains correctly on cpu).
//
// Found with `npx tsx src/main/engine/kernels/probe.ts --bare`, which runs every gradient the zoo needs on
// wasm as the package ships it and compares it with cpu (and, for linear ops, with the exact adjoint of
// the forward op):
//
// wasm (tfjs-backend-wasm 4.22)
//   Conv2DBackpropFilter                 missing: no conv net could train -> conv2d on transposed tensors
//   DepthwiseConv2dNativeBackpropFilter  missing                          -> per-tap slice * dy, summed
//   DepthwiseConv2dNativeBackpropInput   missing                          -> phased depthwiseConv2d
//   Conv2DBackpropInput                  present, but a scalar C loop ~10x slower than conv2d (it is also
//                                        the forward pass of conv2dTranspose) -> phased conv2d
//   MaxPoolGrad                          present, but wrong: windows of all-negative values get no
//                                        gradient                         -> first-max masks per offset
//   ResizeNearestNeighborGrad            present, but ignores halfPixelCenters -> block sum / 0-1 matMuls
//   ResizeBilinearGrad                   present, but ignores halfPixelCenters -> interpolation matMuls
//   Slice, SplitV, Tile                  present, but slow where training leans on them (Slice copies its
//                                        whole input to JavaScript first; Tile loops per value)
//                                                                         -> copies on the wasm heap
// cpu (tfjs-backend-cpu 4.22)
//   ResizeNearestNeighborGrad            wrong for every image after the first of a batch (UpSampling2D
//                                        trains on wrong gradients)       -> block sum / 0-1 matMuls
//   ResizeBilinearGrad                   throws when height != width       -> interpolation matMuls
//
// all backends (a gradient, not a kernel: gradients are shared by every backend)
//   Tile gradient                        one slice + add per repetition: tfjs-layers' LayerNormalization
//                                        tiles gamma/beta to the whole input, so NAFNet's training ran
//                                        n*h*w slices per layer norm (minutes per step on wasm)
//                                                                         -> one reshape + sum
//
// Every other gradient the zoo uses (avg pooling, batch/layer norm, concat, activations, ...) has a
// correct native kernel or is composed of ops that do; probe.ts and tests/unit/engine check them all.
import * as tf from '@tensorflow/tfjs-core';
// Imported first so the backends' own kernels are registered before ours (a later import would override them).
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// Registers tfjs-core's gradients in Node (core's Node bundle leaves them out); ours must come after it.
import '@tensorflow/tfjs-layers';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise-backprop';
import { sliceConfig, splitConfig, tileConfig } from './heap-copy';
import { maxPoolGradConfig } from './max-pool-grad';
import { resizeBilinearGradConfigs, resizeNearestGradConfigs } from './resize-grad';
import { tileGradConfig } from './tile-grad';

export interface ProjectKernel {
  config: KernelConfig;
  /** 'missing': the backend has no such kernel; 'slow' / 'wrong': it has one, which this replaces. */
  reason: 'missing' | 'slow' | 'wrong';
}

export const PROJECT_KERNELS: readonly ProjectKernel[] = [
  { config: conv2dBackpropFilterConfig, reason: 'missing' },
  { config: depthwiseBackpropFilterConfig, reason: 'missing' },
  { config: depthwiseBackpropInputConfig, reason: 'missing' },
  { config: conv2dBackpropInputConfig, reason: 'slow' },
  { config: maxPoolGradConfig, reason: 'wrong' },
  { config: sliceConfig(), reason: 'slow' },
  { config: splitConfig(), reason: 'slow' },
  { config: tileConfig(), reason: 'slow' },
  ...resizeNearestGradConfigs.map((config) => ({ config, reason: 'wrong' as const })),
  ...resizeBilinearGradConfigs.map((config) => ({ config, reason: 'wrong' as const })),
];

/** Gradients the project registers over tfjs-core's (for every backend). */
export const PROJECT_GRADIENTS: readonly GradConfig[] = [tileGradConfig];

/** "backend/KernelName" of every kernel the project registers. */
export const PROJECT_KERNEL_IDS: readonly string[] = PROJECT_KERNELS.map((k) => `${k.config.backendName}/${k.config.kernelName}`);

let registered = false;

/**
 * Registers the project's kernels for wasm and cpu, and its gradients. Idempotent. Safe before or after
 * a backend is initialised (these kernels need no per-backend setup). A kernel the backend already ships
 * is unregistered first, so tfjs does not warn about the override.
 */
export function registerProjectKernels(): void {
  if (registered) return;
  registered = true;
  for (const { config } of PROJECT_KERNELS) {
    if (tf.getKernel(config.kernelName, config.backendName)) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
  }
  for (const config of PROJECT_GRADIENTS) {
    if (tf.getGradient(config.kernelName)) tf.unregisterGradient(config.kernelName);
    tf.registerGradient(config);
  }
}
