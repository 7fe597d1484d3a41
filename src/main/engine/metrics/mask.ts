// Scores of a predicted damage map against the true one, per pixel: precision (how much of what was flagged
// is damage), recall (how much of the damage was flagged) and F1. Maps are one value per pixel in [0, 1]; a
// pixel counts as damaged where the truth covers at least `truthThreshold` (faint ends of a scratch fading
// into the photo are not counted either way) and as flagged where the prediction passes `threshold`.

export interface MaskScores {
  precision: number;
  recall: number;
  f1: number;
  /** Share of all pixels flagged, and share of the truly undamaged ones flagged (false alarms). */
  flagged: number;
  falseAlarmRate: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
}

export interface MaskScoreOptions {
  threshold?: number;
  truthThreshold?: number;
}

/** Counts over a set of pixels; add several images' counts before scoring to pool them. */
export interface MaskCounts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export function countMask(predicted: ArrayLike<number>, truth: ArrayLike<number>, options: MaskScoreOptions = {}): MaskCounts {
  if (predicted.length !== truth.length) throw new Error(`mask sizes differ: ${predicted.length} vs ${truth.length}`);
  const threshold = options.threshold ?? 0.5;
  const truthThreshold = options.truthThreshold ?? 0.25;
  const counts: MaskCounts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (let i = 0; i < truth.length; i++) {
    const flagged = predicted[i]! >= threshold;
    const damaged = truth[i]! >= truthThreshold;
    if (flagged && damaged) counts.tp++;
    else if (flagged) counts.fp++;
    else if (damaged) counts.fn++;
    else counts.tn++;
  }
  return counts;
}

export function addCounts(a: MaskCounts, b: MaskCounts): MaskCounts {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn, tn: a.tn + b.tn };
}

/** Precision, recall and F1 from counts. With nothing flagged and nothing damaged, all three are 1. */
export function scoreCounts(c: MaskCounts): MaskScores {
  const precision = c.tp + c.fp === 0 ? (c.fn === 0 ? 1 : 0) : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? (c.fp === 0 ? 1 : 0) : c.tp / (c.tp + c.fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const total = c.tp + c.fp + c.fn + c.tn;
  return {
    precision,
    recall,
    f1,
    flagged: total === 0 ? 0 : (c.tp + c.fp) / total,
    falseAlarmRate: c.fp + c.tn === 0 ? 0 : c.fp / (c.fp + c.tn),
    truePositives: c.tp,
    falsePositives: c.fp,
    falseNegatives: c.fn,
  };
}

/** A detector's output (RGB, the map repeated in each channel; see data/target.ts) as one value per pixel. */
export function maskFromRgb(rgb: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rgb.length / 3);
  for (let p = 0; p < out.length; p++) out[p] = (rgb[p * 3]! + rgb[p * 3 + 1]! + rgb[p * 3 + 2]!) / 3;
  return out;
}
