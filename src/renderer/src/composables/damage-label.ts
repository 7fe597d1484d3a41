// The damage score on Restore's thumbnails, in words. The score is the classifier's calibrated probability
// that the photo is damaged (see engine/infer/calibration.ts); only a confident one is worth a label, the
// middle says so instead of a figure that reads like a measurement. An uncalibrated score is not shown.

/** At or above: "looks damaged" (on Kodak24, clean, 1 photo of 24 reaches it; 18 of 24 once damaged); at or
 *  below CLEAN_AT: "looks clean"; between: no clear sign. */
export const DAMAGED_AT = 0.9;
export const CLEAN_AT = 0.2;

export interface DamageLabel {
  text: string;
  /** The thumbnail badge's class (main.css .score.*). */
  kind: 'heavy' | 'light' | 'unclear';
}

export function damageLabel(score: number | undefined, calibrated: boolean): DamageLabel | null {
  if (score === undefined || !calibrated) return null;
  if (score >= DAMAGED_AT) return { text: `Looks damaged (${Math.round(score * 100)}% sure)`, kind: 'heavy' };
  if (score <= CLEAN_AT) return { text: `Looks clean (${Math.round((1 - score) * 100)}% sure)`, kind: 'light' };
  return { text: 'No clear sign of damage', kind: 'unclear' };
}
