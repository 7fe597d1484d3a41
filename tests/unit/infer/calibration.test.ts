// Platt scaling of the damage classifier's raw score (src/main/engine/infer/calibration.ts): on synthetic
// scores drawn from a known logistic the fit recovers its slope and, because each class weighs the same in
// total, its intercept shifted by the log of the class ratio; the mix of the fitting set does not move the
// fit; a perfectly separated set gives a finite, increasing map; one class alone is refused in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCalibration, fitPlatt, logit, scoreQuality, sigmoid, type LabelledScore } from '../../../src/main/engine/infer/calibration';
import { Rng } from '../../../src/main/engine/data/rng';

/** Raw scores whose logit is normal (mean 0, sd 2), labelled damaged with probability sigmoid(a·logit + b). */
function draw(n: number, a: number, b: number, seed: number): LabelledScore[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const x = 2 * rng.normal();
    return { raw: sigmoid(x), label: rng.chance(sigmoid(a * x + b)) ? 1 : 0 };
  });
}

const count = (samples: readonly LabelledScore[], label: 0 | 1): number => samples.filter((s) => s.label === label).length;

test('logit undoes sigmoid, and the identity calibration leaves a score as it is', () => {
  for (const p of [0.01, 0.2, 0.5, 0.77, 0.99]) {
    assert.ok(Math.abs(sigmoid(logit(p)) - p) < 1e-12, `sigmoid(logit(${p}))`);
    assert.ok(Math.abs(applyCalibration(p, { a: 1, b: 0 }) - p) < 1e-12, `identity at ${p}`);
  }
  // p = sigmoid(a·logit(raw) + b): a raw 0.75 (logit ln 3) with a = 2, b = -1 is sigmoid(2 ln 3 - 1).
  assert.ok(Math.abs(applyCalibration(0.75, { a: 2, b: -1 }) - 1 / (1 + Math.exp(1 - 2 * Math.log(3)))) < 1e-12);
  // Scores of exactly 0 or 1 stay finite.
  assert.ok(Number.isFinite(applyCalibration(0, { a: 1.5, b: 0.2 })) && applyCalibration(0, { a: 1.5, b: 0.2 }) > 0);
  assert.ok(applyCalibration(1, { a: 1.5, b: 0.2 }) < 1);
});

test('the fit recovers a known logistic: its slope, and its intercept moved by the class ratio', () => {
  const a = 1.7;
  const b = -1.2;
  const samples = draw(40_000, a, b, 18);
  const pos = count(samples, 1);
  const neg = count(samples, 0);
  assert.ok(neg > 1.5 * pos, `the set is unbalanced (${pos} damaged, ${neg} clean), so balancing shows`);
  const fit = fitPlatt(samples);
  assert.ok(Math.abs(fit.a - a) < 0.08, `a = ${fit.a}, expected ${a}`);
  // Weighting each class to half the total is fitting on a balanced set: the prior odds neg/pos move to 1.
  const expectedB = b + Math.log(neg / pos);
  assert.ok(Math.abs(fit.b - expectedB) < 0.08, `b = ${fit.b}, expected ${expectedB.toFixed(3)} (${b} + ln(${neg}/${pos}))`);
});

test('an already calibrated, balanced score fits to the identity', () => {
  const fit = fitPlatt(draw(40_000, 1, 0, 7));
  assert.ok(Math.abs(fit.a - 1) < 0.06 && Math.abs(fit.b) < 0.06, `fit ${JSON.stringify(fit)}`);
});

test('the mix of the fitting set does not move the fit: each class weighs the same in total', () => {
  const samples = draw(6000, 1.3, 0.4, 3);
  const base = fitPlatt(samples);
  // Four times the clean photos (the same ones repeated), as a fitting set with many more clean photos would be.
  const clean = samples.filter((s) => s.label === 0);
  const moreClean = [...samples, ...clean, ...clean, ...clean];
  const fit = fitPlatt(moreClean);
  assert.ok(Math.abs(fit.a - base.a) < 0.01, `a ${fit.a} vs ${base.a}`);
  assert.ok(Math.abs(fit.b - base.b) < 0.01, `b ${fit.b} vs ${base.b} (unweighted, b would drop by about ln 4)`);
});

test('a perfectly separated set gives a finite, increasing map that puts every clean photo below every damaged one', () => {
  const samples: LabelledScore[] = [];
  for (let i = 0; i < 20; i++) samples.push({ raw: 0.05 + 0.02 * i, label: 0 }, { raw: 0.56 + 0.02 * i, label: 1 });
  const fit = fitPlatt(samples);
  assert.ok(Number.isFinite(fit.a) && Number.isFinite(fit.b), `fit ${JSON.stringify(fit)}`);
  assert.ok(fit.a > 0, 'a higher raw score means more likely damaged');
  const raws = samples.map((s) => s.raw).sort((x, y) => x - y);
  const mapped = raws.map((r) => applyCalibration(r, fit));
  for (let i = 1; i < mapped.length; i++) assert.ok(mapped[i]! > mapped[i - 1]!, `increasing at raw ${raws[i]}`);
  const worstClean = Math.max(...samples.filter((s) => s.label === 0).map((s) => applyCalibration(s.raw, fit)));
  const leastDamaged = Math.min(...samples.filter((s) => s.label === 1).map((s) => applyCalibration(s.raw, fit)));
  assert.ok(worstClean < 0.5 && leastDamaged > 0.5, `clean up to ${worstClean}, damaged from ${leastDamaged}`);
  // Platt's smoothed targets ((n+1)/(n+2) and 1/(n+2)) keep the slope moderate on 20 photos of each: the two
  // photos nearest the gap are not called certain (with targets 1 and 0 the slope runs to ~50 and they are).
  const nearGap = [applyCalibration(0.43, fit), applyCalibration(0.56, fit)];
  assert.ok(fit.a < 10 && nearGap[0]! > 0.1 && nearGap[1]! < 0.9, `a = ${fit.a}; near the gap ${nearGap.join(', ')}`);
  assert.equal(scoreQuality(samples, (r) => applyCalibration(r, fit)).accuracy, 1);
});

test('calibrating makes an overconfident score better on log-loss, and scoreQuality measures it', () => {
  // Raw scores twice as far from 0.5 in logit as the truth (a = 0.5 undoes that).
  const samples = draw(20_000, 0.5, 0, 11);
  const raw = scoreQuality(samples, (r) => r);
  const fit = fitPlatt(samples);
  const calibrated = scoreQuality(samples, (r) => applyCalibration(r, fit));
  assert.ok(Math.abs(fit.a - 0.5) < 0.05, `a = ${fit.a}`);
  assert.ok(calibrated.logLoss < raw.logLoss - 0.05, `log-loss ${calibrated.logLoss} vs raw ${raw.logLoss}`);
  assert.ok(calibrated.brier < raw.brier, `Brier ${calibrated.brier} vs raw ${raw.brier}`);
  // A monotone map does not reorder photos; with b near 0 the 0.5 threshold stays put, and so does accuracy.
  assert.ok(Math.abs(calibrated.accuracy - raw.accuracy) < 0.01);
  // By hand: two photos, both 0.8 raw, one damaged: log-loss (−ln 0.8 − ln 0.2)/2, Brier (0.04 + 0.64)/2.
  const two = scoreQuality([{ raw: 0.8, label: 1 }, { raw: 0.8, label: 0 }], (r) => r);
  assert.ok(Math.abs(two.logLoss - (-Math.log(0.8) - Math.log(0.2)) / 2) < 1e-9);
  assert.ok(Math.abs(two.brier - 0.34) < 1e-9);
  assert.equal(two.accuracy, 0.5);
});

test('calibration needs both clean and damaged photos, and says so', () => {
  const onlyDamaged: LabelledScore[] = [{ raw: 0.7, label: 1 }, { raw: 0.9, label: 1 }];
  const onlyClean: LabelledScore[] = [{ raw: 0.2, label: 0 }, { raw: 0.4, label: 0 }];
  for (const samples of [onlyDamaged, onlyClean, []]) {
    assert.throws(() => fitPlatt(samples), { message: 'Calibration needs both clean and damaged photos.' });
  }
});
