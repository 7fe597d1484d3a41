// Kernels for the native TensorFlow backend (tfjs-node) that run one TensorFlow op where tfjs-node runs
// several (issue #13: native speed at or above Keras).
//
// Measured with scripts/profile-native.ts (CPU time per TensorFlow op, 2 cores, TF 2.21 with oneDNN):
//   - FusedConv2D: tfjs-node runs Conv2D, then an Add for the bias and the activation as separate ops, three
//     passes over the output; bias and ReLU were 14% of the reference CNN's inference (Add 70 ms + Relu
//     37 ms next to Conv2D's 639 ms per 576x720 image). Keras' graph runs _MklNativeFusedConv2D (oneDNN,
//     bias and activation as post-ops of the convolution), which costs what the convolution alone costs.
//     Here, best first: _MklNativeFusedConv2D; _FusedConv2D (oneDNN turned off); both need list attributes
//     (fused_ops, TArgs), which only a binding built by `npm run engine:native` can pass (it patches the
//     binding's attribute code). Otherwise _MklNativeConv2DWithBias (bias inside oneDNN) and the activation,
//     else Conv2D + BiasAdd and the activation. Which one runs is probed once per backend (nativeFusion()).
//   - ReluGrad: tfjs differentiates relu as dy * step(x), and tfjs-node's Step is five ops over the whole
//     tensor (IsNan, Greater, Fill, Select, Select): 13% of a reference training step. TensorFlow's ReluGrad is
//     one op (dy where x > 0, else 0; NaN inputs give 0 instead of NaN). reluGradConfig is Relu's gradient
//     for every backend: the ReluGrad kernel where the backend has one (tensorflow), tfjs' formula elsewhere.
// Results equal the unfused ops' within float rounding (tests/unit/engine/native-kernels.test.ts).
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, FusedConv2D, Relu } from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, KernelFunc, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-node's NodeJSKernelBackend these kernels use. */
export interface NativeBackend {
  binding: {
    TF_FLOAT: number;
    TF_ATTR_INT: number;
    TF_ATTR_FLOAT: number;
    TF_ATTR_BOOL: number;
    TF_ATTR_STRING: number;
    TF_ATTR_TYPE: number;
  };
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: TensorInfo[]): Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: TensorInfo[], count: number): Tensor[];
}

export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** How a convolution with bias and activation runs on this backend; see the header. */
export type NativeFusion = 'mkl-fused' | 'fused' | 'mkl-bias' | 'separate';

const probed = new WeakMap<object, NativeFusion>();
/** oneDNN's kernels for the renamed ops (_MklNative*) are registered under this label. */
export const MKL_LABEL = 'MklNameChangeOp';

export function oneDnnOff(): boolean {
  const v = process.env.TF_ENABLE_ONEDNN_OPTS?.trim().toLowerCase();
  return v === '0' || v === 'false';
}

export function convAttrs(b: NativeBackend['binding'], info: backend_util.Conv2DInfo): OpAttr[] {
  // A numeric pad is explicit padding on every side (tfjs-node's own Conv2D refuses it).
  const padding = info.padInfo.type === 'SAME' || info.padInfo.type === 'VALID' ? info.padInfo.type : 'EXPLICIT';
  const attrs: OpAttr[] = [
    { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
    { name: 'strides', type: b.TF_ATTR_INT, value: [1, info.strideHeight, info.strideWidth, 1] },
    { name: 'padding', type: b.TF_ATTR_STRING, value: padding },
    { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'dilations', type: b.TF_ATTR_INT, value: [1, info.dilationHeight, info.dilationWidth, 1] },
    { name: 'use_cudnn_on_gpu', type: b.TF_ATTR_BOOL, value: true },
  ];
  if (padding === 'EXPLICIT') {
    const p = info.padInfo;
    attrs.push({ name: 'explicit_paddings', type: b.TF_ATTR_INT, value: [0, 0, p.top, p.bottom, p.left, p.right, 0, 0] });
  }
  return attrs;
}

/** TensorFlow's name of a fused activation, for the ops that can fuse it. */
const FUSABLE: Record<string, string> = { relu: 'Relu', relu6: 'Relu6', elu: 'Elu', leakyrelu: 'LeakyRelu' };
/** Activations run as their own native op after the convolution. */
const NATIVE_ACTIVATION: Record<string, string> = { ...FUSABLE, sigmoid: 'Sigmoid' };

function fusedOp(b: NativeBackend['binding'], mkl: boolean, info: backend_util.Conv2DInfo, ops: string[], alpha: number): [string, OpAttr[]] {
  const attrs = [
    ...convAttrs(b, info),
    { name: 'num_args', type: b.TF_ATTR_INT, value: 1 },
    { name: 'TArgs', type: b.TF_ATTR_TYPE, value: [b.TF_FLOAT] },
    { name: 'fused_ops', type: b.TF_ATTR_STRING, value: ops },
    { name: 'epsilon', type: b.TF_ATTR_FLOAT, value: 0.0001 },
    { name: 'leakyrelu_alpha', type: b.TF_ATTR_FLOAT, value: alpha },
  ];
  return mkl ? ['_MklNativeFusedConv2D', [...attrs, { name: '_kernel', type: b.TF_ATTR_STRING, value: MKL_LABEL }]] : ['_FusedConv2D', attrs];
}

function biasOp(b: NativeBackend['binding'], mkl: boolean, info: backend_util.Conv2DInfo): [string, OpAttr[]] {
  return mkl
    ? ['_MklNativeConv2DWithBias', [...convAttrs(b, info), { name: '_kernel', type: b.TF_ATTR_STRING, value: MKL_LABEL }]]
    : ['BiasAdd', [{ name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT }, { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' }]];
}

/** Whether this backend (its TensorFlow and binding) runs `fusion`: one 1x2x2x1 convolution with bias and ReLU. */
export function fusionRuns(backend: NativeBackend, fusion: NativeFusion): boolean {
  if (fusion === 'separate') return true;
  const b = backend.binding;
  const info = backend_util.computeConv2DInfo([1, 2, 2, 1], [1, 1, 1, 1], 1, 1, 'same');
  return tf.tidy(() => {
    const x = tf.ones([1, 2, 2, 1]);
    const w = tf.ones([1, 1, 1, 1]);
    const bias = tf.ones([1]);
    try {
      const [name, attrs] = fusion === 'mkl-bias' ? biasOp(b, true, info) : fusedOp(b, fusion === 'mkl-fused', info, ['BiasAdd', 'Relu'], 0.2);
      return backend.executeSingleOutput(name, attrs, [x, w, bias]).dataSync().every((v) => v === 2);
    } catch {
      // Not in this TensorFlow, or the binding cannot pass the op's list attributes.
      return false;
    }
  });
}

/** The fusion the backend uses: the first of the header's list that runs here (probed once per backend). */
export function nativeFusion(backend: NativeBackend): NativeFusion {
  const known = probed.get(backend);
  if (known) return known;
  const candidates: NativeFusion[] = oneDnnOff() ? ['fused', 'separate'] : ['mkl-fused', 'fused', 'mkl-bias', 'separate'];
  const found = candidates.find((c) => fusionRuns(backend, c))!;
  probed.set(backend, found);
  return found;
}

/** Makes the backend use `fusion` (tests run every one that runs here); null probes again. */
export function setNativeFusion(backend: NativeBackend, fusion: NativeFusion | null): void {
  if (fusion) probed.set(backend, fusion);
  else probed.delete(backend);
}

function activate(backend: NativeBackend, y: Tensor, activation: string, alpha: number): Tensor {
  if (activation === 'linear') return y;
  const b = backend.binding;
  const attrs: OpAttr[] = [{ name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT }];
  if (activation === 'leakyrelu') attrs.push({ name: 'alpha', type: b.TF_ATTR_FLOAT, value: alpha });
  const out = backend.executeSingleOutput(NATIVE_ACTIVATION[activation]!, attrs, [y]);
  y.dispose();
  return out;
}

/**
 * FusedConv2D for the tensorflow backend. What it cannot run natively (NCHW, PReLU, a bias that is not one
 * value per channel) goes to tfjs-node's own kernel, `fallback`.
 */
export function fusedConv2dConfig(fallback: KernelFunc): KernelConfig {
  return {
    kernelName: FusedConv2D,
    backendName: 'tensorflow',
    kernelFunc: (args) => {
      const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
      const a = args.attrs as NamedAttrMap & {
        strides: [number, number] | number;
        pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
        dataFormat: 'NHWC' | 'NCHW';
        dilations: [number, number] | number;
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
        activation?: string;
        leakyreluAlpha?: number;
      };
      const activation = a.activation ?? 'linear';
      const perChannel = bias != null && bias.shape.length === 1 && bias.shape[0] === filter!.shape[3];
      const supported = activation === 'linear' || activation in NATIVE_ACTIVATION;
      if (a.dataFormat !== 'NHWC' || preluActivationWeights != null || !supported || (bias != null && !perChannel) || x!.dtype !== 'float32') {
        return fallback(args);
      }
      const backend = args.backend as unknown as NativeBackend;
      const b = backend.binding;
      const info = backend_util.computeConv2DInfo(x!.shape as [number, number, number, number], filter!.shape as [number, number, number, number], a.strides, a.dilations, a.pad, a.dimRoundingMode);
      const alpha = a.leakyreluAlpha ?? 0.2;
      const fusion = nativeFusion(backend);
      if (bias != null && (fusion === 'mkl-fused' || fusion === 'fused')) {
        const ops = activation in FUSABLE ? ['BiasAdd', FUSABLE[activation]!] : ['BiasAdd'];
        const [name, attrs] = fusedOp(b, fusion === 'mkl-fused', info, ops, alpha);
        const y = backend.executeSingleOutput(name, attrs, [x!, filter!, bias]);
        return activation in FUSABLE ? y : activate(backend, y, activation, alpha);
      }
      let y: Tensor;
      if (bias != null && fusion === 'mkl-bias') {
        const [name, attrs] = biasOp(b, true, info);
        y = backend.executeSingleOutput(name, attrs, [x!, filter!, bias]);
      } else {
        y = backend.executeSingleOutput('Conv2D', convAttrs(b, info), [x!, filter!]);
        if (bias != null) {
          const [name, attrs] = biasOp(b, false, info);
          const withBias = backend.executeSingleOutput(name, attrs, [y, bias]);
          y.dispose();
          y = withBias;
        }
      }
      return activate(backend, y, activation, alpha);
    },
  };
}

/** TensorFlow's ReluGrad for the tensorflow backend: inputs dy and x (relu's input). */
export const reluGradKernelConfig: KernelConfig = {
  kernelName: 'ReluGrad',
  backendName: 'tensorflow',
  kernelFunc: ({ inputs, backend }) => {
    const native = backend as unknown as NativeBackend;
    const b = native.binding;
    return native.executeSingleOutput('ReluGrad', [{ name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT }], [inputs.dy!, inputs.x!]);
  },
};

/** Relu's gradient: one ReluGrad op where the active backend has it, else tfjs' dy * step(x). */
export const reluGradConfig: GradConfig = {
  kernelName: Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    const g = dy as Tensor;
    return {
      x: () =>
        tf.getKernel('ReluGrad', tf.getBackend()) && g.dtype === 'float32' && x!.dtype === 'float32'
          ? (tf.engine().runKernel('ReluGrad', { dy: g, x: x! }) as Tensor)
          : tf.mul(g, tf.cast(tf.step(x!), 'float32')),
    };
  },
};
