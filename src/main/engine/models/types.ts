// The shape of a model-zoo entry, and the shared plumbing: hyper-parameter resolution and validation,
// parameter counts and multiply-adds per pixel measured on a probe build.
import * as tfl from '@tensorflow/tfjs-layers';
import { StudioError } from '#shared/rpc/errors';
import type {
  ArchitectureId,
  ArchitectureInfo,
  HyperParams,
  HyperParamSpec,
  HyperValue,
  ModelTask,
} from '#shared/model-card';
import { countMacs } from './macs';

export type { ArchitectureId, HyperParams, HyperParamSpec, HyperValue, ModelTask };

export interface BuildOptions {
  /** Image channels in and out. Default 3 (RGB). */
  channels?: number;
  /** Fixed input height/width; null (default) builds a model that accepts any size (where the architecture allows). */
  height?: number | null;
  width?: number | null;
  /** Model name; defaults to the architecture id. */
  name?: string;
}

export interface ModelStats {
  /** Number of weights (trainable and not). */
  params: number;
  /** Multiply-adds per input pixel of the conv and dense layers (element-wise ops, norms and pooling not counted). */
  macsPerPixel: number;
}

export interface Architecture {
  readonly id: ArchitectureId;
  readonly name: string;
  readonly description: string;
  readonly task: ModelTask;
  readonly hyperParams: readonly HyperParamSpec[];
  /** Defaults of every hyper-parameter, by key. */
  readonly defaults: Readonly<HyperParams>;
  /**
   * True when the model pads its input to `requiredMultiple` internally (and crops the output back), so it
   * accepts any height and width. Fully convolutional nets without pooling have requiredMultiple 1.
   */
  readonly padsInternally: boolean;
  /** Height/width multiple the network computes at; tiles of this multiple waste no padding. */
  requiredMultiple(hyper?: Partial<HyperParams>): number;
  /** Fills in defaults and validates; throws BAD_INPUT naming the offending key. */
  resolve(hyper?: Partial<HyperParams>): HyperParams;
  /** Builds a fresh, randomly initialised model. */
  build(hyper?: Partial<HyperParams>, options?: BuildOptions): tfl.LayersModel;
  /** Parameter count (exact). */
  paramCount(hyper?: Partial<HyperParams>, options?: Pick<BuildOptions, 'channels'>): number;
  /** Multiply-adds per input pixel, measured on a probe build. */
  macsPerPixel(hyper?: Partial<HyperParams>, options?: Pick<BuildOptions, 'channels'>): number;
  stats(hyper?: Partial<HyperParams>, options?: Pick<BuildOptions, 'channels'>): ModelStats;
  info(): ArchitectureInfo;
}

export interface ArchitectureDefinition {
  id: ArchitectureId;
  name: string;
  description: string;
  task: ModelTask;
  hyperParams: HyperParamSpec[];
  padsInternally: boolean;
  requiredMultiple(hyper: HyperParams): number;
  /** Size of the probe build used for the multiply-add count (default 64, or the fixed input size). */
  probeSize?(hyper: HyperParams): number;
  /** Extra checks across keys; return a message to refuse. */
  check?(hyper: HyperParams): string | null;
  build(hyper: HyperParams, options: Required<BuildOptions>): tfl.LayersModel;
}

export function resolveHyper(id: string, specs: readonly HyperParamSpec[], hyper: Partial<HyperParams> = {}): HyperParams {
  const known = new Set(specs.map((s) => s.key));
  for (const key of Object.keys(hyper)) {
    if (!known.has(key)) {
      throw new StudioError(
        'BAD_INPUT',
        `${id} has no hyper-parameter "${key}" (it has ${[...known].join(', ') || 'none'}).`,
      );
    }
  }
  const out: HyperParams = {};
  for (const spec of specs) {
    const value = hyper[spec.key] === undefined ? spec.default : hyper[spec.key]!;
    const bad = (why: string): never => {
      throw new StudioError('BAD_INPUT', `${id}: hyper-parameter "${spec.key}" ${why} (got ${JSON.stringify(value)}).`);
    };
    switch (spec.type) {
      case 'int':
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value)) bad('must be a number');
        if (spec.type === 'int' && !Number.isInteger(value)) bad('must be a whole number');
        if (spec.min !== undefined && (value as number) < spec.min) bad(`must be at least ${spec.min}`);
        if (spec.max !== undefined && (value as number) > spec.max) bad(`must be at most ${spec.max}`);
        break;
      case 'boolean':
        if (typeof value !== 'boolean') bad('must be true or false');
        break;
      case 'enum':
        if (typeof value !== 'string' || !(spec.options ?? []).includes(value)) {
          bad(`must be one of ${(spec.options ?? []).join(', ')}`);
        }
        break;
    }
    out[spec.key] = value;
  }
  return out;
}

/** Typed readers for resolved hyper-parameters. */
export function num(hyper: HyperParams, key: string): number {
  const v = hyper[key];
  if (typeof v !== 'number') throw new StudioError('INTERNAL', `hyper-parameter ${key} is not a number`);
  return v;
}
export function str(hyper: HyperParams, key: string): string {
  const v = hyper[key];
  if (typeof v !== 'string') throw new StudioError('INTERNAL', `hyper-parameter ${key} is not a string`);
  return v;
}
export function bool(hyper: HyperParams, key: string): boolean {
  const v = hyper[key];
  if (typeof v !== 'boolean') throw new StudioError('INTERNAL', `hyper-parameter ${key} is not a boolean`);
  return v;
}

const statsCache = new Map<string, ModelStats>();

export function defineArchitecture(def: ArchitectureDefinition): Architecture {
  const defaults: HyperParams = Object.fromEntries(def.hyperParams.map((s) => [s.key, s.default]));
  const resolve = (hyper?: Partial<HyperParams>): HyperParams => {
    const resolved = resolveHyper(def.id, def.hyperParams, hyper);
    const problem = def.check?.(resolved) ?? null;
    if (problem) throw new StudioError('BAD_INPUT', `${def.id}: ${problem}`);
    return resolved;
  };
  const stats = (hyper?: Partial<HyperParams>, options?: Pick<BuildOptions, 'channels'>): ModelStats => {
    const resolved = resolve(hyper);
    const channels = options?.channels ?? 3;
    const key = `${def.id}|${channels}|${JSON.stringify(resolved)}`;
    const cached = statsCache.get(key);
    if (cached) return cached;
    const size = def.probeSize?.(resolved) ?? 64;
    const model = def.build(resolved, { channels, height: size, width: size, name: `${def.id}_probe` });
    try {
      const result = { params: model.countParams(), macsPerPixel: countMacs(model, size, size) };
      statsCache.set(key, result);
      return result;
    } finally {
      model.dispose();
    }
  };
  return {
    id: def.id,
    name: def.name,
    description: def.description,
    task: def.task,
    hyperParams: def.hyperParams,
    defaults,
    padsInternally: def.padsInternally,
    requiredMultiple: (hyper) => def.requiredMultiple(resolve(hyper)),
    resolve,
    build(hyper, options = {}) {
      const resolved = resolve(hyper);
      const channels = options.channels ?? 3;
      if (!Number.isInteger(channels) || channels < 1) {
        throw new StudioError('BAD_INPUT', `${def.id}: channels must be a positive whole number (got ${channels}).`);
      }
      return def.build(resolved, {
        channels,
        height: options.height ?? null,
        width: options.width ?? null,
        name: options.name ?? def.id.replace(/-/g, '_'),
      });
    },
    paramCount: (hyper, options) => stats(hyper, options).params,
    macsPerPixel: (hyper, options) => stats(hyper, options).macsPerPixel,
    stats,
    info: () => ({
      id: def.id,
      name: def.name,
      description: def.description,
      task: def.task,
      hyperParams: def.hyperParams.map((s) => ({ ...s })),
      padsInternally: def.padsInternally,
    }),
  };
}

// Spec helpers keep the architecture modules short.
export function intParam(key: string, label: string, dflt: number, min: number, max: number, description: string): HyperParamSpec {
  return { key, label, description, type: 'int', default: dflt, min, max };
}
export function enumParam(key: string, label: string, dflt: string, options: string[], description: string): HyperParamSpec {
  return { key, label, description, type: 'enum', default: dflt, options };
}
export function boolParam(key: string, label: string, dflt: boolean, description: string): HyperParamSpec {
  return { key, label, description, type: 'boolean', default: dflt };
}
export function numberParam(key: string, label: string, dflt: number, min: number, max: number, description: string): HyperParamSpec {
  return { key, label, description, type: 'number', default: dflt, min, max };
}

export const ACTIVATIONS = ['relu', 'elu', 'selu', 'tanh', 'swish', 'linear'] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];
export function activationParam(dflt: ActivationName = 'relu'): HyperParamSpec {
  return enumParam('activation', 'Activation', dflt, [...ACTIVATIONS], 'Non-linearity after the hidden convolutions.');
}
