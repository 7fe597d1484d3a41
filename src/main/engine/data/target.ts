// What a model sees and learns to output for a synthesised input:
// - restorers ('clean'): the degraded photo in, the clean photo out;
// - detectors ('damage'): the degraded photo in, the map of where the synthesis drew physical damage out. The
//   map is repeated in all three channels so a detector trains, validates, checkpoints and previews through
//   the same RGB pipeline as a restorer; readers of a detector's output take the channel mean;
// - fillers ('fill'): the degraded photo with its damage interpolated away (pull-push, data/fill.ts, as the
//   repair stage does it) and the mask of what was interpolated in a fourth channel; out, the clean photo on
//   the masked pixels and the input everywhere else, so the loss only asks for what a filler may change.
//   The mask is the one the synthesis drew, thresholded and grown as the repair stage treats a detector's.
// - checking fillers ('fill-check', fill-unet with seesOriginal): the same, plus the photo as it was before the
//   interpolation in three more channels, and decoys (synth/damage.ts: marks shaped like a detector's false
//   alarms) added to the mask with the original pixels as their target: it learns to fill the damage and to
//   keep what was flagged by mistake, so a clean photo comes through repair unchanged.
import { FILL_GROW, FILL_THRESHOLD, fillDamage, fillMask } from './fill';
import type { Rng } from './rng';
import { decoyMask } from './synth/damage';
import type { SynthesisResult } from './synth/recipe';

export type TrainingTarget = 'clean' | 'damage' | 'fill' | 'fill-check';

/** Channels of the model's input for a target: RGB, plus the mask for a filler, plus the original RGB for a checking one. */
export function inputChannels(target: TrainingTarget): 3 | 4 | 7 {
  return target === 'fill' ? 4 : target === 'fill-check' ? 7 : 3;
}

export interface TrainingPair {
  /** HWC, inputChannels(target) channels. */
  input: Float32Array;
  /** HWC RGB. */
  target: Float32Array;
}

/**
 * The model's input and target pixels for one synthesised crop whose clean pixels are `clean`; `rng` draws
 * a checking filler's decoys.
 */
export function trainingPair(target: TrainingTarget, clean: Float32Array, synth: SynthesisResult, rng?: Rng): TrainingPair {
  const degraded = synth.image.data;
  if (target === 'clean') return { input: degraded, target: clean };
  const { damage } = synth;
  if (target === 'damage') {
    const out = new Float32Array(damage.length * 3);
    for (let p = 0, i = 0; p < damage.length; p++, i += 3) out[i] = out[i + 1] = out[i + 2] = damage[p]!;
    return { input: degraded, target: out };
  }
  if (target === 'fill-check') {
    if (!rng) throw new Error('a checking filler\'s training pair needs an Rng for its decoys');
    return checkingFillPair(clean, synth, rng);
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

/**
 * See 'fill-check' at the top. Decoys are placed on the clean photo's structure (where a detector's false alarms
 * fall: placed on the damaged photo they would seek out the damage itself). Under the mask the target is the
 * clean photo wherever the synthesis changed a pixel at all (even too faintly to be in the thresholded mask),
 * and the original elsewhere: a filler taught to keep a faint scratch under a decoy keeps real ones too.
 */
function checkingFillPair(clean: Float32Array, synth: SynthesisResult, rng: Rng): TrainingPair {
  const { damage, image: original } = synth;
  const { width, height } = original;
  const decoys = decoyMask({ width, height, data: clean }, rng);
  const flagged = new Float32Array(damage.length);
  for (let p = 0; p < damage.length; p++) flagged[p] = Math.max(damage[p]!, decoys[p]!);
  const filled = fillDamage(original, flagged);
  const real = fillMask(damage, width, height, FILL_THRESHOLD, FILL_GROW);
  const input = new Float32Array(damage.length * 7);
  const out = new Float32Array(damage.length * 3);
  for (let p = 0; p < damage.length; p++) {
    const toClean = filled.replaced[p]! > 0 ? Math.max(real[p]!, damage[p]! > 0 ? 1 : 0) : 0;
    for (let c = 0; c < 3; c++) {
      const o = original.data[p * 3 + c]!;
      input[p * 7 + c] = filled.image.data[p * 3 + c]!;
      input[p * 7 + 4 + c] = o;
      out[p * 3 + c] = o + toClean * (clean[p * 3 + c]! - o);
    }
    input[p * 7 + 3] = filled.replaced[p]!;
  }
  return { input, target: out };
}
