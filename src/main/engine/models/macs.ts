// Multiply-add counts for speed estimates: conv, transposed conv, depthwise conv and dense layers, from the
// layer configs and the output shapes of a model built at a fixed input size. Element-wise ops, normalisation,
// pooling and resampling are not counted (they are memory-bound and small next to the convolutions).
import type * as tfl from '@tensorflow/tfjs-layers';

type Shape = (number | null)[];

/** A custom layer can report its own multiply-adds per image. */
export interface CountsMacs {
  macsPerImage(inputShape: Shape): number;
}

function single(shape: unknown): Shape {
  if (Array.isArray(shape) && Array.isArray(shape[0])) return shape[0] as Shape;
  return shape as Shape;
}

function dim(shape: Shape, index: number): number {
  const v = shape[index < 0 ? shape.length + index : index];
  return typeof v === 'number' ? v : 1;
}

function pair(value: unknown): [number, number] {
  if (Array.isArray(value)) return [Number(value[0]), Number(value[1] ?? value[0])];
  return [Number(value), Number(value)];
}

function inputShapeOf(layer: tfl.layers.Layer): Shape {
  const node = (layer as unknown as { inboundNodes: { inputShapes: unknown }[] }).inboundNodes[0];
  return single(node?.inputShapes ?? []);
}

export function layerMacs(layer: tfl.layers.Layer): number {
  const cls = layer.getClassName();
  const config = layer.getConfig() as Record<string, unknown>;
  const custom = layer as unknown as Partial<CountsMacs>;
  if (typeof custom.macsPerImage === 'function') return custom.macsPerImage(inputShapeOf(layer));
  switch (cls) {
    case 'Conv2D': {
      const [kh, kw] = pair(config.kernelSize);
      const input = inputShapeOf(layer);
      const output = single(layer.outputShape);
      return kh * kw * dim(input, -1) * Number(config.filters) * dim(output, 1) * dim(output, 2);
    }
    case 'Conv2DTranspose': {
      const [kh, kw] = pair(config.kernelSize);
      const input = inputShapeOf(layer);
      return kh * kw * dim(input, -1) * Number(config.filters) * dim(input, 1) * dim(input, 2);
    }
    case 'DepthwiseConv2D': {
      const [kh, kw] = pair(config.kernelSize);
      const input = inputShapeOf(layer);
      const output = single(layer.outputShape);
      return kh * kw * dim(input, -1) * Number(config.depthMultiplier ?? 1) * dim(output, 1) * dim(output, 2);
    }
    case 'Dense': {
      const input = inputShapeOf(layer);
      const output = single(layer.outputShape);
      let positions = 1;
      for (let i = 1; i < output.length - 1; i++) positions *= dim(output, i);
      return dim(input, -1) * Number(config.units) * positions;
    }
    default:
      return 0;
  }
}

/** Multiply-adds per input pixel of a model built for a fixed height x width input. */
export function countMacs(model: tfl.LayersModel, height: number, width: number): number {
  let total = 0;
  for (const layer of model.layers) total += layerMacs(layer);
  return total / (height * width);
}
