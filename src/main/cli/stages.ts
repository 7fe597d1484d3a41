// studio restore --stages: which of the pipeline's stages run (repair, then the model, then tone), as the
// --repair, --tone and --model flags the rest of the command already understands. Stages run in that order
// whatever order they are listed in; the ones named without a strength of their own take --strength.
import { StudioError } from '#shared/rpc/errors';
import { NO_MODEL } from '#shared/restore';

export const STAGES = ['repair', 'model', 'tone'] as const;
export type Stage = (typeof STAGES)[number];

/** Strength of a stage named in --stages without --repair or --tone of its own. */
export const DEFAULT_STAGE_STRENGTH = '0.5';

export interface StageFlags {
  stages?: string;
  strength?: string;
  model?: string;
  repair?: string;
  tone?: string;
  bestQuality?: boolean;
}

/** The --model, --repair and --tone values that --stages and --strength stand for (the flags as they are without --stages). */
export function resolveStages(flags: StageFlags): { model?: string; repair?: string; tone?: string } {
  if (flags.stages === undefined) {
    if (flags.strength !== undefined) throw new StudioError('BAD_INPUT', '--strength sets the strength of the stages named in --stages: give --stages too.');
    return { model: flags.model, repair: flags.repair, tone: flags.tone };
  }
  const named = flags.stages
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const unknown = named.filter((s) => !(STAGES as readonly string[]).includes(s));
  if (unknown.length) throw new StudioError('BAD_INPUT', `--stages: unknown stage "${unknown[0]}"; the stages are ${STAGES.join(', ')}.`);
  if (!named.length) throw new StudioError('BAD_INPUT', `--stages names no stage; the stages are ${STAGES.join(', ')}.`);
  const has = (stage: Stage): boolean => named.includes(stage);
  for (const [stage, value] of [['repair', flags.repair], ['tone', flags.tone], ['model', flags.model]] as const) {
    if (value !== undefined && !has(stage)) throw new StudioError('BAD_INPUT', `--${stage} is given but --stages leaves the ${stage} stage out.`);
  }
  if (flags.bestQuality && !has('model')) throw new StudioError('BAD_INPUT', '--best-quality averages the model in 8 orientations: --stages leaves the model out.');
  const strength = flags.strength ?? DEFAULT_STAGE_STRENGTH;
  const n = Number(strength);
  if (strength.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new StudioError('BAD_INPUT', `--strength must be a number from 0 to 1 (got "${strength}").`);
  return {
    model: has('model') ? flags.model : NO_MODEL,
    repair: has('repair') ? (flags.repair ?? strength) : undefined,
    tone: has('tone') ? (flags.tone ?? strength) : undefined,
  };
}
