// What a model learns to output for a synthesised input: the clean photo (restorers) or the map of where
// the synthesis drew physical damage (detectors). The damage map is repeated in all three channels so a
// detector trains, validates, checkpoints and previews through the same RGB pipeline as a restorer; readers
// of a detector's output take the channel mean.
import type { SynthesisResult } from './synth/recipe';

export type TrainingTarget = 'clean' | 'damage';

/** The target pixels (HWC, 3 channels) for one synthesised crop whose clean pixels are `clean`. */
export function targetPixels(target: TrainingTarget, clean: Float32Array, synth: SynthesisResult): Float32Array {
  if (target === 'clean') return clean;
  const { damage } = synth;
  const out = new Float32Array(damage.length * 3);
  for (let p = 0, i = 0; p < damage.length; p++, i += 3) {
    const v = damage[p]!;
    out[i] = v;
    out[i + 1] = v;
    out[i + 2] = v;
  }
  return out;
}
