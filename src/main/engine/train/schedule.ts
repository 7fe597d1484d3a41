// Learning-rate schedules with linear warm-up. Steps are 0-based indices over the whole run.
import type { LrSchedule } from '#shared/model-card';

export interface ScheduleContext {
  baseLearningRate: number;
  stepsPerEpoch: number;
  totalSteps: number;
}

/** Learning rate for the step with 0-based index `step`. */
export function learningRateAt(step: number, schedule: LrSchedule, ctx: ScheduleContext): number {
  const base = ctx.baseLearningRate;
  const warmup = schedule.warmupSteps;
  if (warmup > 0 && step < warmup) return (base * (step + 1)) / warmup;
  switch (schedule.kind) {
    case 'constant':
      return base;
    case 'step': {
      const every = Math.max(1, schedule.stepEpochs * ctx.stepsPerEpoch);
      return base * schedule.gamma ** Math.floor(step / every);
    }
    case 'cosine': {
      const span = Math.max(1, ctx.totalSteps - warmup - 1);
      const t = Math.min(1, Math.max(0, (step - warmup) / span));
      const min = Math.min(schedule.minLearningRate, base);
      return min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * t));
    }
  }
}
