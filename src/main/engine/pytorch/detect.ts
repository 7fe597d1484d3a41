// Which architecture a state dict is (ESRGAN, Real-ESRGAN Compact, SPAN), from the keys it has, and its
// rebuild in TensorFlow.js.
import type * as tfl from '@tensorflow/tfjs-layers';
import { StudioError } from '#shared/rpc/errors';
import type { HyperParams } from '#shared/model-card';
import { buildCompact, compactSpec, isCompact } from './compact';
import { Weights } from './convert';
import { buildEsrgan, esrganLayout, esrganSpec } from './esrgan';
import { buildSpan, isSpan, spanSpec } from './span';
import type { StateDict } from './tensor';

export type ImportedArchitecture = 'esrgan' | 'compact' | 'span';

export interface Detected {
  architecture: ImportedArchitecture;
  /** A readable name, e.g. "ESRGAN (Real-ESRGAN layout)". */
  label: string;
  scale: number;
  /** The input height and width must be a multiple of this (pixel-unshuffle variants). */
  requiredMultiple: number;
  hyper: HyperParams;
  /** Builds the model with the file's weights; the caller disposes it. */
  build(): { model: tfl.LayersModel; macsPerPixel: number };
}

const LAYOUT_NAMES = { new: 'Real-ESRGAN layout', bsrgan: 'BSRGAN/RealSR layout', old: 'original ESRGAN layout' } as const;

export function detectArchitecture(file: string, state: StateDict): Detected {
  const layout = esrganLayout(state);
  if (layout) {
    const weights = new Weights(file, state, 'ESRGAN');
    const spec = esrganSpec(weights, layout);
    return {
      architecture: 'esrgan',
      label: `${spec.plus ? 'ESRGAN+' : 'ESRGAN'} (${LAYOUT_NAMES[spec.layout]})`,
      scale: spec.scale,
      requiredMultiple: spec.unshuffle,
      hyper: { layout: spec.layout, plus: spec.plus, features: spec.features, growth: spec.growth, blocks: spec.blocks, scale: spec.scale, unshuffle: spec.unshuffle },
      build: () => buildEsrgan(weights, layout, spec),
    };
  }
  if (isCompact(state)) {
    const weights = new Weights(file, state, 'Real-ESRGAN Compact');
    const spec = compactSpec(weights);
    return {
      architecture: 'compact',
      label: 'Real-ESRGAN Compact (SRVGGNetCompact)',
      scale: spec.scale,
      requiredMultiple: 1,
      hyper: { features: spec.features, convs: spec.convs, scale: spec.scale },
      build: () => buildCompact(weights, spec),
    };
  }
  if (isSpan(state)) {
    const weights = new Weights(file, state, 'SPAN');
    const spec = spanSpec(weights);
    return {
      architecture: 'span',
      label: 'SPAN',
      scale: spec.scale,
      requiredMultiple: 1,
      hyper: { features: spec.features, scale: spec.scale, norm: spec.norm },
      build: () => buildSpan(weights, spec),
    };
  }
  const keys = [...state.keys()];
  const shown = keys.slice(0, 6).join(', ');
  throw new StudioError(
    'MODEL_INVALID',
    `${file}: is not an architecture the studio can rebuild (ESRGAN, Real-ESRGAN Compact, SPAN); its ${keys.length} keys begin ${shown}${keys.length > 6 ? ', …' : ''}.`,
    { keys: keys.slice(0, 50) },
  );
}
