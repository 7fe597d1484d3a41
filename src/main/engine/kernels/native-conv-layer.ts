// Conv2D layers on the native backend: one fused op forward and TensorFlow's own gradient ops backward,
// while training too (issue #13).
//
// tfjs-layers' Conv2D calls tf.fused.conv2d with its bias and activation, but tfjs-core fuses only outside
// a gradient tape (shouldFuse in ops/fused_util): while training, a ReLU conv runs as Conv2D + Add + Relu,
// and its gradient as ReluGrad + Sum (bias) + the two conv gradients, three passes over the activations
// more than Keras' graph, which runs _MklNativeFusedConv2D forward and ReluGrad,
// _MklNativeConv2DBackpropFilterWithBias (filter and bias gradients in one op) and Conv2DBackpropInput
// backward. On the tensorflow backend, Conv2D layers with a linear or ReLU activation, a bias, NHWC data,
// 'same' or 'valid' padding and no dilation call the kernel StudioFusedConv2D instead: the fused
// convolution of ./native-fused.ts, whose registered gradient runs those four ops (the input gradient only
// where it is needed: not for the first layer). Every other layer, and every other backend, runs tfjs-layers'
// own call. This is the one place the studio changes a tfjs-layers class: Conv2D.prototype gets its own
// `call`, which hands everything it does not handle to the inherited one.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, Conv2DBackpropInput } from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, KernelFunc, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { convAttrs, MKL_LABEL, oneDnnOff, type NativeBackend } from './native-fused';

export const STUDIO_FUSED_CONV = 'StudioFusedConv2D';
export const BACKPROP_FILTER_WITH_BIAS = 'Conv2DBackpropFilterWithBias';

interface ConvAttrs extends NamedAttrMap {
  strides: [number, number];
  pad: 'same' | 'valid';
  dataFormat: 'NHWC';
  dilations: [number, number];
  activation: 'linear' | 'relu';
}

const withBiasProbe = new WeakMap<object, boolean>();

/** Whether _MklNativeConv2DBackpropFilterWithBias runs here (probed once per backend). */
function filterWithBiasRuns(backend: NativeBackend): boolean {
  const known = withBiasProbe.get(backend);
  if (known !== undefined) return known;
  let runs = false;
  if (!oneDnnOff()) {
    const info = backend_util.computeConv2DInfo([1, 2, 2, 1], [1, 1, 1, 1], 1, 1, 'same');
    runs = tf.tidy(() => {
      try {
        const [dw, db] = backend.executeMultipleOutputs(
          '_MklNativeConv2DBackpropFilterWithBias',
          [...convAttrs(backend.binding, info), { name: '_kernel', type: backend.binding.TF_ATTR_STRING, value: MKL_LABEL }],
          [tf.ones([1, 2, 2, 1]), tf.tensor1d([1, 1, 1, 1], 'int32'), tf.ones([1, 2, 2, 1])],
          2,
        );
        return dw!.dataSync()[0] === 4 && db!.dataSync()[0] === 4;
      } catch {
        return false;
      }
    });
  }
  withBiasProbe.set(backend, runs);
  return runs;
}

/** The filter and bias gradients of a convolution from its input x and output gradient dy. */
export const backpropFilterWithBiasConfig: KernelConfig = {
  kernelName: BACKPROP_FILTER_WITH_BIAS,
  backendName: 'tensorflow',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const native = backend as unknown as NativeBackend;
    const b = native.binding;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
    const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, a.dilations, a.pad);
    const sizes = tf.tensor1d(a.filterShape, 'int32');
    try {
      if (filterWithBiasRuns(native)) {
        const label = { name: '_kernel', type: b.TF_ATTR_STRING, value: MKL_LABEL };
        return native.executeMultipleOutputs('_MklNativeConv2DBackpropFilterWithBias', [...convAttrs(b, info), label], [x, sizes, dy], 2);
      }
      const dw = native.executeSingleOutput('Conv2DBackpropFilter', convAttrs(b, info), [x, sizes, dy]);
      const biasAttrs = [
        { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
        { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' },
      ];
      return [dw, native.executeSingleOutput('BiasAddGrad', biasAttrs, [dy])];
    } finally {
      sizes.dispose();
    }
  },
};

/** StudioFusedConv2D's gradient: ReluGrad (on the output), the filter and bias gradients in one op, and the input's. */
export const studioFusedConvGradConfig: GradConfig = {
  kernelName: STUDIO_FUSED_CONV,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved as [Tensor, Tensor, Tensor];
    const a = attrs as unknown as ConvAttrs;
    // y > 0 exactly where the pre-activation is: ReluGrad takes either.
    const dz = a.activation === 'relu' ? (tf.engine().runKernel('ReluGrad', { dy: dy as Tensor, x: y }) as Tensor) : (dy as Tensor);
    const conv = { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dilations: a.dilations };
    const [dw, db] = tf.engine().runKernel(BACKPROP_FILTER_WITH_BIAS, { x, dy: dz }, { ...conv, filterShape: filter.shape }) as Tensor[];
    return {
      x: () => tf.engine().runKernel(Conv2DBackpropInput, { dy: dz, filter }, { ...conv, inputShape: x.shape }) as Tensor,
      filter: () => dw!,
      bias: () => db!,
    };
  },
};

/** The layer fields this module reads (tfjs-layers keeps them public at runtime). */
interface ConvLayer {
  rank: number;
  dataFormat: string;
  useBias: boolean;
  strides: number[];
  padding: string;
  dilationRate: number[];
  activation: { getClassName(): string };
  kernel: { read(): Tensor };
  bias: { read(): Tensor } | null;
}

type Call = (this: ConvLayer, inputs: Tensor | Tensor[], kwargs: object) => Tensor | Tensor[];

function nativeActivation(layer: ConvLayer): 'linear' | 'relu' | null {
  const name = layer.activation.getClassName();
  return name === 'relu' || name === 'linear' ? name : null;
}

function handles(layer: ConvLayer, x: Tensor): boolean {
  return (
    tf.getBackend() === 'tensorflow' &&
    tf.getKernel(STUDIO_FUSED_CONV, 'tensorflow') != null &&
    layer.rank === 2 &&
    layer.dataFormat === 'channelsLast' &&
    layer.useBias &&
    layer.bias != null &&
    (layer.padding === 'same' || layer.padding === 'valid') &&
    layer.dilationRate.every((d) => d === 1) &&
    nativeActivation(layer) != null &&
    x.rank === 4 &&
    x.dtype === 'float32'
  );
}

function fusedCall(layer: ConvLayer, x: Tensor): Tensor {
  return tf.tidy(
    () =>
      tf.engine().runKernel(
        STUDIO_FUSED_CONV,
        { x, filter: layer.kernel.read(), bias: layer.bias!.read() },
        { strides: layer.strides as [number, number], pad: layer.padding, dataFormat: 'NHWC', dilations: [1, 1], activation: nativeActivation(layer)! },
      ) as Tensor,
  );
}

let installed = false;

/**
 * Registers StudioFusedConv2D (the native FusedConv2D kernel function `fused` under its own name), its
 * gradient and the filter-and-bias gradient kernel, and gives tfjs-layers' Conv2D its own call. Idempotent.
 */
export function useNativeConvLayers(fused: KernelFunc): void {
  if (installed) return;
  const conv2d = tf.serialization.SerializationMap.getMap().classNameMap.Conv2D?.[0] as unknown as { prototype: { call: Call } } | undefined;
  if (!conv2d) return;
  installed = true;
  tf.registerKernel({ kernelName: STUDIO_FUSED_CONV, backendName: 'tensorflow', kernelFunc: fused });
  tf.registerKernel(backpropFilterWithBiasConfig);
  tf.registerGradient(studioFusedConvGradConfig);
  const inherited = conv2d.prototype.call;
  const call: Call = function (inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!x || (Array.isArray(inputs) && inputs.length !== 1) || !handles(this, x)) return inherited.call(this, inputs, kwargs);
    return fusedCall(this, x);
  };
  Object.defineProperty(conv2d.prototype, 'call', { value: call, writable: true, configurable: true });
}
