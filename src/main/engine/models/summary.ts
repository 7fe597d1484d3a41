// A model's layers as data (name, class, output shape, parameters, inbound layers), for the UI's layer
// diagram and summary table.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { LayerSummary } from '#shared/model-card';

export function summarizeModel(model: tfl.LayersModel): LayerSummary[] {
  return model.layers.map((layer) => {
    const shape = layer.outputShape;
    const first = (Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
    const inputs = new Set<string>();
    for (const node of layer.inboundNodes) for (const inbound of node.inboundLayers) inputs.add(inbound.name);
    return {
      name: layer.name,
      className: layer.getClassName(),
      outputShape: first.slice(1),
      params: layer.countParams(),
      inputs: [...inputs],
    };
  });
}
