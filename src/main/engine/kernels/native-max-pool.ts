// MaxPool and MaxPoolGrad on the native backend through oneDNN (issue #13).
//
// tfjs-node runs TensorFlow's MaxPoolGrad op, whose CPU kernel (Eigen) took 9 ms of the small U-Net's
// ~210 ms training step for its three 2x2 pools (6.6 ms for one 16x64x64x16 input). oneDNN's
// _MklNativeMaxPoolGrad, what Keras' graph runs, takes the forward pass's workspace (where each window's
// maximum was); tfjs saves only the pool's input and output, so this kernel runs _MklNativeMaxPool again for
// the workspace, then the gradient: 0.8 ms for that input, the same values (the first maximum of a window
// gets its gradient, ties included). The forward pool is oneDNN's too (_MklNativeMaxPool, its workspace
// dropped: 7.9 -> ~3 ms for the U-Net's three pools on a 576x720 image, as in Keras). Both fall back to
// tfjs-node's kernels where oneDNN's ops do not run (probed once per backend), and take float32 NHWC with
// 'same' or 'valid' padding only.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, MaxPool, MaxPoolGrad } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { MKL_LABEL, oneDnnOff, type NativeBackend, type OpAttr } from './native-fused';

const probe = new WeakMap<object, boolean>();

function poolAttrs(b: NativeBackend['binding'], info: backend_util.Conv2DInfo): OpAttr[] {
  return [
    { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
    { name: 'ksize', type: b.TF_ATTR_INT, value: [1, info.filterHeight, info.filterWidth, 1] },
    { name: 'strides', type: b.TF_ATTR_INT, value: [1, info.strideHeight, info.strideWidth, 1] },
    { name: 'padding', type: b.TF_ATTR_STRING, value: info.padInfo.type },
    { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'workspace_enabled', type: b.TF_ATTR_BOOL, value: true },
    { name: '_kernel', type: b.TF_ATTR_STRING, value: MKL_LABEL },
  ];
}

type PoolArgs = {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/** The pool's geometry, or null where oneDNN's kernels are not used. */
function oneDnnInfo(backend: NativeBackend, x: TensorInfo, a: PoolArgs): backend_util.Conv2DInfo | null {
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const padding = info.padInfo.type;
  return x.dtype === 'float32' && (padding === 'SAME' || padding === 'VALID') && oneDnnRuns(backend) ? info : null;
}

/** oneDNN's gradient: the forward pass again for its workspace, then the gradient from it. */
function oneDnnGrad(backend: NativeBackend, input: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): Tensor {
  const attrs = poolAttrs(backend.binding, info);
  const [output, workspace] = backend.executeMultipleOutputs('_MklNativeMaxPool', attrs, [input], 2);
  try {
    return backend.executeSingleOutput('_MklNativeMaxPoolGrad', attrs, [input, output!, dy, workspace!]);
  } finally {
    tf.dispose([output!, workspace!]);
  }
}

function oneDnnRuns(backend: NativeBackend): boolean {
  const known = probe.get(backend);
  if (known !== undefined) return known;
  let runs = false;
  if (!oneDnnOff()) {
    const info = backend_util.computePool2DInfo([1, 2, 2, 1], 2, 2, 1, 'valid');
    runs = tf.tidy(() => {
      try {
        const g = oneDnnGrad(backend, tf.tensor4d([1, 3, 2, 0], [1, 2, 2, 1]), tf.tensor4d([5], [1, 1, 1, 1]), info);
        return g.dataSync().join(',') === '0,5,0,0';
      } catch {
        return false;
      }
    });
  }
  probe.set(backend, runs);
  return runs;
}

/** MaxPool for the tensorflow backend; what it does not take goes to tfjs-node's kernel, `fallback`. */
export function maxPoolConfig(fallback: KernelFunc): KernelConfig {
  return {
    kernelName: MaxPool,
    backendName: 'tensorflow',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      const backend = args.backend as unknown as NativeBackend;
      const info = oneDnnInfo(backend, x, args.attrs as unknown as PoolArgs);
      if (!info) return fallback(args);
      const [output, workspace] = backend.executeMultipleOutputs('_MklNativeMaxPool', poolAttrs(backend.binding, info), [x], 2);
      workspace!.dispose();
      return output!;
    },
  };
}

/** MaxPoolGrad for the tensorflow backend; what it does not take goes to tfjs-node's kernel, `fallback`. */
export function maxPoolGradConfig(fallback: KernelFunc): KernelConfig {
  return {
    kernelName: MaxPoolGrad,
    backendName: 'tensorflow',
    kernelFunc: (args) => {
      const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
      const backend = args.backend as unknown as NativeBackend;
      const info = oneDnnInfo(backend, input, args.attrs as unknown as PoolArgs);
      return info ? oneDnnGrad(backend, input, dy, info) : fallback(args);
    },
  };
}
