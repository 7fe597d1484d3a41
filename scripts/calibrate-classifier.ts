// Calibrates the clean-vs-damaged classifier: scores held-out photos the way triage does (five crops at the
// photo's own resolution), clean and through the studio's own damage synthesis, fits Platt scaling on them
// (src/main/engine/infer/calibration.ts) and, with --write, stores it in the model's card, which triage then
// applies. The held-out photos are the validation split of the classifier's training run (same folder, seed
// and fraction), so none was trained on. Clean photos are used at full size and halved (a downsized photo is
// still clean). --eval folders (e.g. Kodak24, real scans) are only scored and reported, never fitted on.
//
//   npx tsx scripts/calibrate-classifier.ts --model <classifier dir|id> --data <clean dir the run trained on>
//        --seed <the run's seed> [--val-fraction 0.1] [--draws 2] [--eval <dir>]... [--eval-damaged <dir>]...
//        [--write] [--json]
//
// --eval: clean photos (reported as such, and also through old-photo-damage); --eval-damaged: photos that
// are damaged already (real old scans), reported one by one.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, resolvePreference } from '../src/main/engine/backend';
import { deriveSeed, loadRgbImage, openDataset, presetRecipe, splitDataset, synthesize, type RgbImage } from '../src/main/engine/data/index';
import { resize } from '../src/main/engine/data/synth/filters';
import { listImages } from '../src/main/engine/infer/batch';
import { applyCalibration, fitPlatt, scoreQuality, type LabelledScore } from '../src/main/engine/infer/calibration';
import { loadClassifier, scoreImage, type Classifier } from '../src/main/engine/infer/triage';
import { CARD_JSON, readCard } from '../src/main/engine/package/index';
import { resolveModelDir } from '../src/main/engine/infer/model';
import { writeFileAtomic } from '../src/main/fs-atomic';
import { ModelCardSchema } from '#shared/model-card';

const PRESETS = ['old-photo-damage', 'old-photo'] as const;

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    seed: { type: 'string' },
    'val-fraction': { type: 'string', default: '0.1' },
    draws: { type: 'string', default: '2' },
    eval: { type: 'string', multiple: true, default: [] },
    'eval-damaged': { type: 'string', multiple: true, default: [] },
    write: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
if (!values.model || !values.data || values.seed === undefined) {
  console.error('Usage: npx tsx scripts/calibrate-classifier.ts --model <dir|id> --data <training folder> --seed <run seed> [--eval <dir>] [--write]');
  process.exit(2);
}
const seed = Number(values.seed);
const draws = Number(values.draws);
await initBackend(resolvePreference(process.env.STUDIO_BACKEND ?? 'auto'));
const dir = await resolveModelDir(values.model, 'classify', {});
const classifier = await loadClassifier(dir);
const raw = (image: RgbImage): Promise<number> => scoreImage(classifier, image);

function halve(image: RgbImage): RgbImage {
  return resize(image, Math.round(image.width / 2), Math.round(image.height / 2), 'area');
}

async function heldOut(): Promise<{ samples: LabelledScore[]; photos: number }> {
  const items = splitDataset((await openDataset(values.data!)).items, { valFraction: Number(values['val-fraction']), seed }).val;
  const samples: LabelledScore[] = [];
  for (const item of items) {
    const clean = await loadRgbImage(item.clean);
    samples.push({ raw: await raw(clean), label: 0 }, { raw: await raw(halve(clean)), label: 0 });
    for (const preset of PRESETS) {
      for (let d = 0; d < draws; d++) {
        const { image } = await synthesize(clean, presetRecipe(preset), deriveSeed(seed, 'calibrate', preset, item.id, d));
        samples.push({ raw: await raw(image), label: 1 });
      }
    }
    process.stderr.write('.');
  }
  process.stderr.write(`\n${items.length} held-out photos, ${samples.length} scores\n`);
  return { samples, photos: items.length };
}

/** Two-fold estimate of how the fitted map does on photos it was not fitted on (for the report only). */
function crossValidated(samples: LabelledScore[]): ReturnType<typeof scoreQuality> {
  const even = samples.filter((_, i) => i % 2 === 0);
  const odd = samples.filter((_, i) => i % 2 === 1);
  const mapped: LabelledScore[] = [];
  for (const [fit, test] of [[even, odd], [odd, even]] as const) {
    const c = fitPlatt(fit);
    for (const s of test) mapped.push({ raw: applyCalibration(s.raw, c), label: s.label });
  }
  return scoreQuality(mapped, (p) => p);
}

async function scoreFolder(path: string, c: Classifier, calibration: { a: number; b: number }, damage: boolean) {
  const rows: { file: string; raw: number; calibrated: number; damagedRaw?: number; damagedCalibrated?: number }[] = [];
  for (const file of await listImages(path, false)) {
    const image = await loadRgbImage(file);
    const r = await scoreImage(c, image);
    const row: (typeof rows)[number] = { file: file.slice(path.length + 1), raw: r, calibrated: applyCalibration(r, calibration) };
    if (damage) {
      const { image: damaged } = await synthesize(image, presetRecipe('old-photo-damage'), deriveSeed(seed, 'calibrate-eval', file));
      row.damagedRaw = await scoreImage(c, damaged);
      row.damagedCalibrated = applyCalibration(row.damagedRaw, calibration);
    }
    rows.push(row);
  }
  return rows;
}

const { samples, photos } = await heldOut();
const calibration = fitPlatt(samples);
const report = {
  model: dir,
  data: values.data,
  seed,
  samples: samples.length,
  calibration,
  raw: scoreQuality(samples, (p) => p),
  calibrated: scoreQuality(samples, (p) => applyCalibration(p, calibration)),
  calibratedTwoFold: crossValidated(samples),
  eval: [] as { dir: string; rows: Awaited<ReturnType<typeof scoreFolder>> }[],
};
for (const path of values.eval) report.eval.push({ dir: path, rows: await scoreFolder(path, classifier, calibration, true) });
for (const path of values['eval-damaged']) report.eval.push({ dir: path, rows: await scoreFolder(path, classifier, calibration, false) });
classifier.dispose();

if (values.write) {
  const card = await readCard(dir);
  const fittedOn =
    `${report.samples} scores of ${photos} held-out photos of ${values.data!.replace(/[\\/]+$/, '').split(/[\\/]/).pop()} ` +
    `(validation split, seed ${seed}): clean at full and half size, and ${PRESETS.join(' / ')} × ${draws} draws each`;
  const updated = ModelCardSchema.parse({ ...card, calibration: { method: 'platt', ...calibration, fittedOn, samples: samples.length } });
  await writeFileAtomic(join(dir, CARD_JSON), `${JSON.stringify(updated, null, 2)}\n`);
}

if (values.json) console.log(JSON.stringify(report));
else {
  const q = (x: ReturnType<typeof scoreQuality>): string => `log-loss ${x.logLoss.toFixed(3)}, Brier ${x.brier.toFixed(3)}, accuracy ${(100 * x.accuracy).toFixed(1)}%`;
  console.log(`Platt scaling of ${dir}: a = ${calibration.a.toFixed(4)}, b = ${calibration.b.toFixed(4)} (${samples.length} held-out scores)`);
  console.log(`  raw:                 ${q(report.raw)}`);
  console.log(`  calibrated:          ${q(report.calibrated)}`);
  console.log(`  calibrated (2-fold): ${q(report.calibratedTwoFold)}`);
  for (const e of report.eval) {
    console.log(`${e.dir}:`);
    for (const r of e.rows) {
      const damaged = r.damagedCalibrated === undefined ? '' : `   damaged: raw ${r.damagedRaw!.toFixed(3)} -> ${r.damagedCalibrated.toFixed(3)}`;
      console.log(`  ${r.file.padEnd(28)} raw ${r.raw.toFixed(3)} -> ${r.calibrated.toFixed(3)}${damaged}`);
    }
  }
  if (values.write) console.log(`Written into ${join(dir, CARD_JSON)}.`);
}
