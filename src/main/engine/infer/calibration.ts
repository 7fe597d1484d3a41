// Platt scaling of the classifier's raw score. A sigmoid output trained on patches is not a probability for a
// whole photo (the old classifier gave clean, sharp photos 0.75): p = sigmoid(a · logit(raw) + b), with a and
// b fitted on held-out photos whose answer is known (clean ones and the same ones through the damage
// synthesis), by Newton's method on the weighted log-loss (two parameters, a handful of iterations).
import type { ClassifierCalibration } from '#shared/model-card';

const EPS = 1e-6;

export function logit(p: number): number {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function applyCalibration(raw: number, calibration: Pick<ClassifierCalibration, 'a' | 'b'>): number {
  return sigmoid(calibration.a * logit(raw) + calibration.b);
}

export interface LabelledScore {
  raw: number;
  /** 1 damaged, 0 clean. */
  label: 0 | 1;
}

/**
 * Fits a and b. Each class weighs the same in total (a folder is as likely to be clean as damaged, whatever
 * the mix of the fitting set), and the targets are Platt's smoothed ones so a perfectly separated set does
 * not send a to infinity.
 */
export function fitPlatt(samples: readonly LabelledScore[]): { a: number; b: number } {
  const positives = samples.filter((s) => s.label === 1).length;
  const negatives = samples.length - positives;
  if (positives === 0 || negatives === 0) throw new Error('Calibration needs both clean and damaged photos.');
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (negatives + 2);
  const rows = samples.map((s) => ({
    x: logit(s.raw),
    t: s.label === 1 ? hi : lo,
    w: s.label === 1 ? samples.length / (2 * positives) : samples.length / (2 * negatives),
  }));
  let a = 1;
  let b = 0;
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0, gb = 0, haa = 1e-9, hab = 0, hbb = 1e-9;
    for (const { x, t, w } of rows) {
      const p = sigmoid(a * x + b);
      const d = w * (p - t);
      const h = w * p * (1 - p);
      ga += d * x;
      gb += d;
      haa += h * x * x;
      hab += h * x;
      hbb += h;
    }
    const det = haa * hbb - hab * hab;
    if (Math.abs(det) < 1e-12) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-9) break;
  }
  return { a, b };
}

/** Mean log-loss, Brier score and accuracy at 0.5 of the scores mapped by `map` (for reports). */
export function scoreQuality(samples: readonly LabelledScore[], map: (raw: number) => number): { logLoss: number; accuracy: number; brier: number } {
  let loss = 0, correct = 0, brier = 0;
  for (const s of samples) {
    const p = Math.min(1 - EPS, Math.max(EPS, map(s.raw)));
    loss -= s.label === 1 ? Math.log(p) : Math.log(1 - p);
    brier += (p - s.label) ** 2;
    if ((p >= 0.5 ? 1 : 0) === s.label) correct++;
  }
  const n = Math.max(1, samples.length);
  return { logLoss: loss / n, accuracy: correct / n, brier: brier / n };
}
