import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CliCommand, CliIO } from '../command';
import { StudioError } from '#shared/rpc/errors';
import type { HyperParamSpec, HyperValue } from '#shared/model-card';
import { TrainParamsSchema, type TrainDoneEvent, type TrainEvent, type TrainParamsInput } from '#shared/training';
import { ARCHITECTURE_IDS, getArchitecture } from '../../engine/models/index';
import { cliModelsDir, modelRef, withEngine } from '../engine';
import { kebab, parseFlags } from '../flags';
import { formatCount, formatDuration } from '../format';

const TRAIN_OPTIONS = {
  data: { type: 'string' },
  synth: { type: 'string' },
  arch: { type: 'string' },
  epochs: { type: 'string' },
  'steps-per-epoch': { type: 'string' },
  'batch-size': { type: 'string' },
  patch: { type: 'string' },
  lr: { type: 'string' },
  loss: { type: 'string' },
  schedule: { type: 'string' },
  warmup: { type: 'string' },
  'step-epochs': { type: 'string' },
  gamma: { type: 'string' },
  'min-lr': { type: 'string' },
  patience: { type: 'string' },
  'min-delta': { type: 'string' },
  seed: { type: 'string' },
  'val-fraction': { type: 'string' },
  'val-crop': { type: 'string' },
  'max-val-images': { type: 'string' },
  samples: { type: 'string' },
  'patches-per-image': { type: 'string' },
  gan: { type: 'boolean', default: false },
  'adversarial-weight': { type: 'string' },
  'vgg16-weights': { type: 'string' },
  'init-from': { type: 'string' },
  hyper: { type: 'string', multiple: true },
  out: { type: 'string' },
  name: { type: 'string' },
  resume: { type: 'boolean', default: false },
  overwrite: { type: 'boolean', default: false },
  'work-dir': { type: 'string' },
  'models-dir': { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

function archHelp(): string {
  return ARCHITECTURE_IDS.map((id) => {
    const arch = getArchitecture(id);
    return `  ${id.padEnd(15)} ${arch.hyperParams.map((h) => `--${kebab(h.key)}`).join(' ') || '(no hyper-parameters)'}`;
  }).join('\n');
}

const USAGE = `Usage: studio train --data <dir> [--synth <preset>] --arch <name> --out <model-dir|name> [options]

Trains a restoration model (or the clean-vs-degraded classifier) on a dataset folder and saves it as a model
package. --data is a paired folder (degraded/ and clean/ with matching file names) or a folder of clean
images with --synth making the degraded inputs (gaussian:<sigma>, gaussian-blind, jpeg:<quality>,
jpeg-blind, poisson:<peak>, blur:<sigma>, downscale:<factor>, old-photo, old-photo-restore, old-photo-damage
(for --arch damage-unet: it learns where the damage was drawn), or a recipe .json).
Checkpoints are written every epoch; after Ctrl+C, a crash or a kill, run the same command with --resume
to continue from the last finished epoch. Ctrl+C stops within one batch and saves the model of the finished
epochs (press it twice to quit at once).

Data and output:
  --data <dir>            dataset folder
  --synth <preset>        degradation preset for clean-only folders
  --out <dir|name>        model folder to write, or a name for a model in the models folder
  --name <text>           display name (default: from --out)
  --resume                continue the run that writes --out from its last checkpoint
  --overwrite             replace an existing model at --out
  --work-dir <dir>        run folder for checkpoints and samples (default: in the data folder)
  --models-dir <dir>      models folder for name outputs
Training:
  --arch <name>           ${ARCHITECTURE_IDS.join(', ')}
  --epochs <n>            default 20           --steps-per-epoch <n>   default 200
  --batch-size <n>        default 8            --patch <px>            default 64
  --lr <rate>             default 0.001        --loss <l1|mse|charbonnier|ssim-mix|dice-bce>  default l1
  --schedule <cosine|step|constant>  default cosine        --warmup <steps>  default 0
  --step-epochs <n> --gamma <x>  (step schedule)           --min-lr <rate>  (cosine floor)
  --patience <epochs>     early stopping on validation PSNR (default off)   --min-delta <dB>  default 0.01
  --seed <n>              default 0            --val-fraction <0..0.9>  default 0.1
  --val-crop <px>         validation crop      --max-val-images <n>  default 32
  --samples <n>           validation PNG samples per epoch (default 4)
  --patches-per-image <n> patches cut per decoded image
  --gan                   conditional-GAN fine-tuning (PatchGAN discriminator)   --adversarial-weight <x>
  --vgg16-weights <file>  Keras VGG16 notop weights (.h5, .weights.h5 or .keras) for vgg16-restorer's encoder
  --init-from <model>     fine-tune: start from this model's weights (id, built-in id or folder); the run keeps
                          its architecture, so --arch must match it and hyper-parameters may be left out
Architecture hyper-parameters (by the zoo's names; or --hyper key=value):
${archHelp()}
Other:
  --backend <name>        auto, tensorflow, wasm or cpu
  --json                  one JSON line per epoch on stdout:
                          {"epoch","loss","valLoss","valPsnr","valSsim","lr","patchesPerSecond","etaSeconds"}
                          and a last line {"done":true,"model":path,"status",...}

Progress goes to stderr. Exit code 0 when the run finished (or stopped early), 130 when stopped.`;

/** The --arch value, found before the real parse (it decides which hyper-parameter flags exist). */
function findArch(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--arch') return args[i + 1];
    if (a.startsWith('--arch=')) return a.slice('--arch='.length);
  }
  return undefined;
}

function parseNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new StudioError('BAD_INPUT', `${flag} needs a number (got "${value}").`);
  return n;
}

function parseHyperValue(spec: HyperParamSpec, raw: string, flag: string): HyperValue {
  switch (spec.type) {
    case 'int':
    case 'number':
      return parseNumber(raw, flag)!;
    case 'boolean': {
      const v = raw.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      throw new StudioError('BAD_INPUT', `${flag} needs true or false (got "${raw}").`);
    }
    default:
      return raw;
  }
}

/** Turns the command line into train.run parameters. Exported for tests. */
export async function trainParamsFromArgs(args: string[]): Promise<{ params: TrainParamsInput; json: boolean; backend?: string }> {
  const archName = findArch(args);
  if (!archName) throw new StudioError('BAD_INPUT', `--arch is required (one of ${ARCHITECTURE_IDS.join(', ')}).`);
  const arch = getArchitecture(archName);
  const hyperOptions: Record<string, { type: 'string' }> = {};
  const specByFlag = new Map<string, HyperParamSpec>();
  for (const spec of arch.hyperParams) {
    for (const flag of new Set([kebab(spec.key), spec.key])) {
      hyperOptions[flag] = { type: 'string' };
      specByFlag.set(flag, spec);
    }
  }
  const { values } = parseArgs({ args, strict: true, allowPositionals: false, options: { ...TRAIN_OPTIONS, ...hyperOptions } });
  const v = values as Record<string, string | boolean | string[] | undefined>;
  const str = (key: string): string | undefined => (typeof v[key] === 'string' ? (v[key] as string) : undefined);

  const hyper: Record<string, HyperValue> = {};
  for (const entry of (v.hyper as string[] | undefined) ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new StudioError('BAD_INPUT', `--hyper needs key=value (got "${entry}").`);
    const key = entry.slice(0, eq);
    const spec = arch.hyperParams.find((s) => s.key === key || kebab(s.key) === key);
    if (!spec) throw new StudioError('BAD_INPUT', `${arch.id} has no hyper-parameter "${key}" (it has ${arch.hyperParams.map((s) => s.key).join(', ') || 'none'}).`);
    hyper[spec.key] = parseHyperValue(spec, entry.slice(eq + 1), `--hyper ${key}`);
  }
  for (const [flag, spec] of specByFlag) {
    const raw = str(flag);
    if (raw !== undefined) hyper[spec.key] = parseHyperValue(spec, raw, `--${flag}`);
  }

  const data = str('data');
  const out = str('out');
  if (!data) throw new StudioError('BAD_INPUT', '--data is required: a paired folder (degraded/ + clean/) or a folder of clean images with --synth.');
  if (!out) throw new StudioError('BAD_INPUT', '--out is required: the model folder to write, or a name for the models folder.');
  const num = (key: string): number | undefined => parseNumber(str(key), `--${key}`);
  const modelsDir = await cliModelsDir(str('models-dir'));
  const optional = <T>(key: string, value: T | undefined): Record<string, T> => (value === undefined ? {} : { [key]: value });
  const patience = str('patience');
  const params: TrainParamsInput = {
    data: resolve(data),
    ...optional('synth', str('synth')),
    arch: arch.id,
    hyper,
    ...optional('epochs', num('epochs')),
    ...optional('stepsPerEpoch', num('steps-per-epoch')),
    ...optional('batchSize', num('batch-size')),
    ...optional('patch', num('patch')),
    ...optional('lr', num('lr')),
    ...optional('loss', str('loss') as TrainParamsInput['loss']),
    ...optional('schedule', str('schedule') as TrainParamsInput['schedule']),
    ...optional('warmup', num('warmup')),
    ...optional('stepEpochs', num('step-epochs')),
    ...optional('gamma', num('gamma')),
    ...optional('minLr', num('min-lr')),
    ...(patience === undefined ? {} : { patience: patience === 'off' || patience === '0' ? null : parseNumber(patience, '--patience')! }),
    ...optional('minDelta', num('min-delta')),
    ...optional('seed', num('seed')),
    ...optional('validationFraction', num('val-fraction')),
    ...optional('valCrop', num('val-crop')),
    ...optional('maxValImages', num('max-val-images')),
    ...optional('samples', num('samples')),
    ...optional('patchesPerImage', num('patches-per-image')),
    gan: v.gan === true,
    ...optional('adversarialWeight', num('adversarial-weight')),
    ...optional('vgg16Weights', str('vgg16-weights') === undefined ? undefined : resolve(str('vgg16-weights')!)),
    ...optional('initFrom', str('init-from') === undefined ? undefined : modelRef(str('init-from')!)),
    out: modelRef(out),
    ...optional('name', str('name')),
    resume: v.resume === true,
    overwrite: v.overwrite === true,
    ...optional('workDir', str('work-dir') === undefined ? undefined : resolve(str('work-dir')!)),
    ...optional('modelsDir', modelsDir),
  };
  // The engine's own schema checks every limit now, in flag words, before the engine starts.
  parseFlags(TrainParamsSchema, params, { validationFraction: '--val-fraction', hyper: '--hyper' });
  return { params, json: v.json === true, ...optional('backend', str('backend')) };
}

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

function round(value: number | null, digits: number): number | null {
  if (value === null || !Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

class Progress {
  private lastBatchLine = 0;

  constructor(
    private readonly io: CliIO,
    private readonly json: boolean,
    private readonly arch: string,
  ) {}

  on(event: TrainEvent): void {
    const { io } = this;
    switch (event.type) {
      case 'start': {
        io.err(
          `Training ${this.arch} (${formatCount(event.paramCount)} parameters) ` +
            `on ${event.trainImages} image${event.trainImages === 1 ? '' : 's'} (${event.valImages} for validation, ${event.datasetKind} data) ` +
            `with the ${event.backend} backend, patches from a ${event.sampler === 'worker' ? 'worker thread' : 'main-thread'} sampler → ${event.output}`,
        );
        if (event.resumedFrom > 0) io.err(`Resuming after epoch ${event.resumedFrom} (run folder ${event.workDir}).`);
        else io.err(`Run folder (checkpoints, samples): ${event.workDir}`);
        if (event.initFrom) {
          io.err(
            event.resumedFrom > 0
              ? `Fine-tuning "${event.initFrom.name}" (${event.initFrom.dir}); the weights come from the checkpoint.`
              : `Starting from the weights of "${event.initFrom.name}" (${event.initFrom.dir}).`,
          );
        }
        if (event.vgg16Layers) io.err(`Loaded VGG16 weights into ${event.vgg16Layers.join(', ')}.`);
        break;
      }
      case 'batch': {
        const now = Date.now();
        if (now - this.lastBatchLine < 2000 && event.step !== 1) return;
        this.lastBatchLine = now;
        io.err(
          `epoch ${event.epoch} step ${event.step}/${event.stepsPerEpoch} · loss ${event.loss.toPrecision(4)} · lr ${event.lr.toExponential(2)} · ` +
            `${event.patchesPerSecond.toFixed(1)} patches/s · ETA ${formatDuration(event.etaSeconds)}`,
        );
        break;
      }
      case 'epoch': {
        io.err(
          `epoch ${event.epoch}/${event.epochs}: loss ${event.loss.toPrecision(4)}, val loss ${event.valLoss === null ? '-' : event.valLoss.toPrecision(4)}, ` +
            (typeof event.valAccuracy === 'number'
              ? `val accuracy ${(event.valAccuracy * 100).toFixed(1)}%`
              : `val PSNR ${fixed(event.valPsnr, 2)} dB, SSIM ${fixed(event.valSsim, 4)}`) +
            `${event.best ? ' (best)' : ''}, lr ${event.lr.toExponential(2)}, ` +
            `${event.patchesPerSecond.toFixed(1)} patches/s, ETA ${formatDuration(event.etaSeconds)}`,
        );
        if (this.json) {
          io.out(
            JSON.stringify({
              epoch: event.epoch,
              loss: event.loss,
              valLoss: event.valLoss,
              valPsnr: event.valPsnr,
              valSsim: event.valSsim,
              lr: event.lr,
              patchesPerSecond: round(event.patchesPerSecond, 3),
              etaSeconds: round(event.etaSeconds, 1),
              ...(typeof event.valAccuracy === 'number' ? { valAccuracy: event.valAccuracy } : {}),
            }),
          );
        }
        break;
      }
      case 'warning':
        io.err(`warning: ${event.message}`);
        break;
      case 'done':
        break;
    }
  }

  done(event: TrainDoneEvent): void {
    const { io } = this;
    const m = event.finalMetrics;
    const metrics = m.psnr !== null ? `, validation PSNR ${m.psnr.toFixed(2)} dB, SSIM ${fixed(m.ssim, 4)}` : '';
    const how = event.status === 'completed' ? 'Finished' : event.status === 'early-stopped' ? 'Stopped early (no improvement)' : 'Stopped';
    if (event.model) {
      io.err(`${how} after ${event.epochs} epoch${event.epochs === 1 ? '' : 's'} in ${formatDuration(event.seconds)}${event.bestEpoch ? ` (best epoch ${event.bestEpoch}${metrics})` : ''}.`);
      io.err(`Model saved: ${event.model}`);
    } else {
      io.err(`${how} before an epoch finished: no model was saved.`);
    }
    if (event.status === 'cancelled' && event.checkpoint) io.err('Run the same command with --resume to continue.');
    if (this.json) {
      io.out(
        JSON.stringify({
          done: true,
          model: event.model,
          id: event.id,
          status: event.status,
          epochs: event.epochs,
          bestEpoch: event.bestEpoch,
          valPsnr: event.finalMetrics.psnr,
          valSsim: event.finalMetrics.ssim,
          seconds: round(event.seconds, 2),
        }),
      );
    }
  }
}

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Train a restoration model on a dataset folder (resumable).',
  usage: USAGE,
  async run(args, io, signal) {
    const { params, json, backend } = await trainParamsFromArgs(args);
    const progress = new Progress(io, json, params.arch);
    return withEngine({ backend, modelsDir: params.modelsDir }, async ({ engine }) => {
      const done = await engine.run('train.run', params, {
        signal,
        onEvent: (event) => progress.on(event),
        stop: (runId) => {
          io.err('Stopping after the current batch… (Ctrl+C again quits at once)');
          return engine.call('train.stop', { runId });
        },
        cancelled: 'Training was cancelled before it started.',
      });
      progress.done(done);
      return done.status === 'cancelled' ? 130 : 0;
    });
  },
};
