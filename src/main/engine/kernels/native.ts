// What the native TensorFlow backend (tfjs-node) gets from the studio on top of tfjs-node's own kernels
// (issue #13: native speed at or above Keras; scripts/profile-native.ts shows where the time goes):
//   ./native-fused       FusedConv2D as one TensorFlow op (bias and activation inside oneDNN's convolution),
//                        and relu's gradient as TensorFlow's ReluGrad;
//   ./native-conv-layer  Conv2D layers that stay fused while training, with TensorFlow's gradient ops;
//   ./native-max-pool    MaxPool and MaxPoolGrad through oneDNN (the gradient 8x faster than TensorFlow's
//                        Eigen kernel).
// STUDIO_NATIVE_KERNELS=0 leaves tfjs-node as it ships (to compare, or to rule these out).
import * as tf from '@tensorflow/tfjs-core';
import { FusedConv2D, MaxPool, MaxPoolGrad, Relu } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { useNativeConvLayers } from './native-conv-layer';
import { fusedConv2dConfig, reluGradConfig, reluGradKernelConfig } from './native-fused';
import { maxPoolConfig, maxPoolGradConfig } from './native-max-pool';

let registered = false;

/** Registers `make(tfjs-node's kernel)` in place of tfjs-node's kernel `name`. */
function replace(name: string, make: (fallback: KernelFunc) => KernelConfig): void {
  const own = tf.getKernel(name, 'tensorflow');
  if (!own) return;
  tf.unregisterKernel(name, 'tensorflow');
  tf.registerKernel(make(own.kernelFunc));
}

/** Registers them once tfjs-node is imported (after its own kernels, which they fall back to). Idempotent. */
export function registerNativeKernels(env: NodeJS.ProcessEnv = process.env): void {
  if (registered || env.STUDIO_NATIVE_KERNELS?.trim() === '0' || !tf.getKernel(FusedConv2D, 'tensorflow')) return;
  registered = true;
  replace(FusedConv2D, fusedConv2dConfig);
  replace(MaxPool, maxPoolConfig);
  replace(MaxPoolGrad, maxPoolGradConfig);
  tf.registerKernel(reluGradKernelConfig);
  if (tf.getGradient(Relu)) tf.unregisterGradient(Relu);
  tf.registerGradient(reluGradConfig);
  useNativeConvLayers(tf.getKernel(FusedConv2D, 'tensorflow')!.kernelFunc);
}
