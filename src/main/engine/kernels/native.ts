// What the native TensorFlow backend (tfjs-node) gets from the studio on top of tfjs-node's own kernels
// (issue #13: native speed at or above Keras; scripts/profile-native.ts shows where the time goes):
//   ./native-fused       FusedConv2D as one TensorFlow op (bias and activation inside oneDNN's convolution),
//                        and relu's gradient as TensorFlow's ReluGrad;
//   ./native-conv-layer  Conv2D layers that stay fused while training, with TensorFlow's gradient ops;
//   ./native-max-pool-grad  MaxPoolGrad through oneDNN (8x faster than TensorFlow's Eigen kernel).
// STUDIO_NATIVE_KERNELS=0 leaves tfjs-node as it ships (to compare, or to rule these out).
import * as tf from '@tensorflow/tfjs-core';
import { FusedConv2D, MaxPoolGrad, Relu } from '@tensorflow/tfjs-core';
import { useNativeConvLayers } from './native-conv-layer';
import { fusedConv2dConfig, reluGradConfig, reluGradKernelConfig } from './native-fused';
import { maxPoolGradConfig } from './native-max-pool-grad';

let registered = false;

/** Registers them once tfjs-node is imported (after its own kernels, which FusedConv2D falls back to). Idempotent. */
export function registerNativeKernels(env: NodeJS.ProcessEnv = process.env): void {
  if (registered || env.STUDIO_NATIVE_KERNELS?.trim() === '0') return;
  const own = tf.getKernel(FusedConv2D, 'tensorflow');
  if (!own) return;
  registered = true;
  const fused = fusedConv2dConfig(own.kernelFunc);
  tf.unregisterKernel(FusedConv2D, 'tensorflow');
  tf.registerKernel(fused);
  tf.registerKernel(reluGradKernelConfig);
  if (tf.getGradient(Relu)) tf.unregisterGradient(Relu);
  tf.registerGradient(reluGradConfig);
  useNativeConvLayers(fused.kernelFunc);
  const ownPoolGrad = tf.getKernel(MaxPoolGrad, 'tensorflow');
  if (ownPoolGrad) {
    tf.unregisterKernel(MaxPoolGrad, 'tensorflow');
    tf.registerKernel(maxPoolGradConfig(ownPoolGrad.kernelFunc));
  }
}
