// What a model sees and learns to output for a synthesised input:
// - restorers ('clean'): the degraded photo in, the clean photo out;
// - detectors ('damage'): the degraded photo in, the map of where the synthesis drew physical damage out. The
//   map is repeated in all three channels so a detector trains, validates, checkpoints and previews through
//   the same RGB pipeline as a restorer; readers of a detector's output take the channel mean;
// - fillers ('fill'): the degraded photo with its damage interpolated away (pull-push, data/fill.ts, as the
//   repair stage does it) and the mask of what was interpolated in a fourth channel; out, the clean photo on
//   the masked pixels and the input everywhere else, so the loss only asks for what a filler may change.
//   The mask is the one the synthesis drew, thresholded and grown as the repair stage treats a detector's.
import { fillDamage } from './fill';
import type { SynthesisResult } from './synth/recipe';

export type TrainingTarget = 'clean' | 'damage' | 'fill';

/** Channels of the model's input for a target: RGB, plus the mask for a filler. */
export function inputChannels(target: TrainingTarget): 3 | 4 {
  return target === 'fill' ? 4 : 3;
}

export interface TrainingPair {
  /** HWC, inputChannels(target) channels. */
  input: Float32Array;
  /** HWC RGB. */
  target: Float32Array;
}

/** The model's input and target pixels for one synthesised crop whose clean pixels are `clean`. */
export function trainingPair(target: TrainingTarget, clean: Float32Array, synth: SynthesisResult): TrainingPair {
  const degraded = synth.image.data;
  if (target === 'clean') return { input: degraded, target: clean };
  const { damage } = synth;
  if (target === 'damage') {
    const out = new Float32Array(damage.length * 3);
    for (let p = 0, i = 0; p < damage.length; p++, i += 3) out[i] = out[i + 1] = out[i + 2] = damage[p]!;
    return { input: degraded, target: out };
  }
  const filled = fillDamage(synth.image, damage);
  const input = new Float32Array(damage.length * 4);
  const out = new Float32Array(damage.length * 3);
  for (let p = 0; p < damage.length; p++) {
    const m = filled.replaced[p]!;
    for (let c = 0; c < 3; c++) {
      const v = filled.image.data[p * 3 + c]!;
      input[p * 4 + c] = v;
      out[p * 3 + c] = v + m * (clean[p * 3 + c]! - v);
    }
    input[p * 4 + 3] = m;
  }
  return { input, target: out };
}
