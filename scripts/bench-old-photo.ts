// The old-photo pipeline, stage by stage (issue 14's report): held-out photos damaged by the old-photo-damage
// synthesis (which knows where it drew each defect) go through each stage alone and through the whole
// pipeline (repair, then the model, then tone, as studio restore --repair --tone runs them), scored against
// the clean photo: PSNR and SSIM over the photo, PSNR on the damaged pixels, the detector's mask F1, and the
// same photos undamaged through the pipeline (a stage must leave a clean photo alone). Never pass a folder
// any of the models was trained on.
//
//   npm run bench:old-photo -- <clean-dir> [--model <restorer id|dir>] [--detector <id|dir>] [--filler <id|dir|none>]
//        [--repair <0..1>] [--tone <0..1>] [--max-images <n>] [--seed <n>] [--synth <preset|recipe.json>] [--json]
//
// Defaults: the bundled old-photo model, damage detector and (as restore, when installed) damage filler, repair 0.5, tone 0.5, --synth old-photo-damage
// (docs/models/old-photo-damage-v1.recipe.json is the one before flakes joined it). A pixel is damaged where
// the synthesis covered it at least 25%. Runs on the best backend unless STUDIO_BACKEND says otherwise.
import { parseArgs } from 'node:util';
import { initBackend, resolvePreference } from '../src/main/engine/backend';
import { deriveSeed, loadRgbImage, openDataset, resolvePreset, synthesize, type RgbImage } from '../src/main/engine/data/index';
import { loadDamageDetector, loadRestoreModel, type RestoreModel } from '../src/main/engine/infer/model';
import { detectDamage, repairThreshold } from '../src/main/engine/infer/repair';
import { fillDamage } from '../src/main/engine/data/fill';
import { loadRepairFiller, refineFill } from '../src/main/engine/infer/learned-fill';
import { planTiles } from '../src/main/engine/infer/memory';
import { restoreTiled } from '../src/main/engine/infer/tiles';
import { applyTone, planTone } from '../src/main/engine/infer/tone';
import { addCounts, countMask, psnr, psnrFromMse, scoreCounts, squaredError, ssim, type MaskCounts } from '../src/main/engine/metrics/index';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    synth: { type: 'string', default: 'old-photo-damage' },
    model: { type: 'string', default: 'old-photo' },
    detector: { type: 'string' },
    filler: { type: 'string' },
    repair: { type: 'string', default: '0.5' },
    tone: { type: 'string', default: '0.5' },
    'max-images': { type: 'string' },
    seed: { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  },
});
const data = positionals[0];
if (!data) {
  console.error('Usage: npm run bench:old-photo -- <folder of clean photos> [--model <restorer>] [--detector <detector>] [--repair <0..1>] [--tone <0..1>] [--max-images <n>] [--seed <n>] [--synth <preset|recipe.json>] [--json]');
  process.exit(2);
}
const seed = Number(values.seed);
const threshold = repairThreshold(Number(values.repair));
const toneStrength = Number(values.tone);
await initBackend(resolvePreference(process.env.STUDIO_BACKEND ?? 'auto'));
const restorer = await loadRestoreModel(values.model);
const detector = await loadDamageDetector(values.detector);
const filler = await loadRepairFiller(values.filler);
const synthName = values.synth!;
const recipe = await resolvePreset(synthName);

/** The model over a whole image, tiled as restore tiles it. */
function restore(model: RestoreModel, image: RgbImage): Promise<RgbImage> {
  return restoreTiled(model.run, image, { ...planTiles(model), multiple: model.multiple });
}

/** Repair: the detector's mask filled from around it; returns the photo and the mask it found. */
async function repair(image: RgbImage): Promise<{ image: RgbImage; found: Float32Array }> {
  const found = await detectDamage(detector, image);
  const filled = fillDamage(image, found, { threshold });
  return { image: filler && filled.filledShare > 0 ? await refineFill(filler, image, filled) : filled.image, found };
}

/** Tone, planned on the photo as it came in (as restorePhoto does) and applied to `image`. */
function tone(input: RgbImage, image: RgbImage): RgbImage {
  const plan = planTone(input, { strength: toneStrength });
  return { ...image, data: applyTone(plan, image.data) };
}

type Stage = 'input' | 'repair' | 'model' | 'tone' | 'pipeline';
const STAGES: Stage[] = ['input', 'repair', 'model', 'tone', 'pipeline'];
const LABELS: Record<Stage, string> = {
  input: 'input (damaged)',
  repair: 'repair alone',
  model: `model alone (${values.model})`,
  tone: 'tone alone',
  pipeline: 'pipeline (repair, model, tone)',
};
type Pooled = { sum: number; count: number };
const zero = (): Pooled => ({ sum: 0, count: 0 });
const pool = (a: Pooled, b: Pooled): Pooled => ({ sum: a.sum + b.sum, count: a.count + b.count });
const scores = Object.fromEntries(STAGES.map((s) => [s, { all: zero(), damaged: zero(), ssim: [] as number[], seconds: 0 }])) as Record<
  Stage,
  { all: Pooled; damaged: Pooled; ssim: number[]; seconds: number }
>;
let masks: MaskCounts = { tp: 0, fp: 0, fn: 0, tn: 0 };
/** The undamaged photos through each stage and the pipeline, PSNR against themselves (a stage must leave them alone). */
const CLEAN_STAGES = ['repair', 'model', 'tone', 'pipeline'] as const;
type CleanStage = (typeof CLEAN_STAGES)[number];
const cleanThrough = Object.fromEntries(CLEAN_STAGES.map((s) => [s, [] as number[]])) as Record<CleanStage, number[]>;

async function timed<T>(stage: Stage, run: () => Promise<T> | T): Promise<T> {
  const start = performance.now();
  const result = await run();
  scores[stage].seconds += (performance.now() - start) / 1000;
  return result;
}

async function pipeline(image: RgbImage): Promise<RgbImage> {
  const repaired = await repair(image);
  return tone(image, await restore(restorer, repaired.image));
}

const items = (await openDataset(data)).items.slice(0, values['max-images'] ? Number(values['max-images']) : undefined);
for (const item of items) {
  const clean = await loadRgbImage(item.clean);
  const { image, damage } = await synthesize(clean, recipe, deriveSeed(seed, 'old-photo-eval', item.id));
  const repaired = await timed('repair', () => repair(image));
  masks = addCounts(masks, countMask(repaired.found, damage, { threshold }));
  const outputs: Record<Stage, RgbImage> = {
    input: image,
    repair: repaired.image,
    model: await timed('model', () => restore(restorer, image)),
    tone: await timed('tone', () => tone(image, image)),
    pipeline: await timed('pipeline', () => pipeline(image)),
  };
  for (const stage of STAGES) {
    const out = outputs[stage].data;
    scores[stage].all = pool(scores[stage].all, squaredError(out, clean.data));
    scores[stage].damaged = pool(scores[stage].damaged, squaredError(out, clean.data, { mask: damage, threshold: 0.25 }));
    scores[stage].ssim.push(ssim(out, clean.data, { width: clean.width, height: clean.height, channels: 3 }));
  }
  const cleanOutputs: Record<CleanStage, RgbImage> = {
    repair: (await repair(clean)).image,
    model: await restore(restorer, clean),
    tone: tone(clean, clean),
    pipeline: await pipeline(clean),
  };
  for (const stage of CLEAN_STAGES) cleanThrough[stage].push(Math.min(100, psnr(cleanOutputs[stage].data, clean.data)));
  process.stderr.write('.');
}
process.stderr.write('\n');
restorer.dispose();
detector.dispose();
filler?.dispose();

const db = (p: Pooled): number => psnrFromMse(p.count === 0 ? 0 : p.sum / p.count);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
/** Median and worst of a list of PSNRs (100 dB, identical, for an empty list). */
function medianAndWorst(values: number[]): { median: number; worst: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? 100, worst: sorted[0] ?? 100 };
}
const rows = STAGES.map((stage) => ({
  stage,
  psnr: db(scores[stage].all),
  ssim: mean(scores[stage].ssim),
  damagedPsnr: db(scores[stage].damaged),
  secondsPerImage: scores[stage].seconds / Math.max(1, items.length),
}));
const result = {
  data,
  images: items.length,
  seed,
  synth: synthName,
  model: values.model,
  detector: values.detector ?? 'damage',
  filler: filler?.id ?? 'none',
  repairStrength: Number(values.repair),
  toneStrength,
  rows,
  mask: scoreCounts(masks),
  cleanThroughPipeline: medianAndWorst(cleanThrough.pipeline),
  cleanThroughStage: Object.fromEntries(CLEAN_STAGES.map((s) => [s, medianAndWorst(cleanThrough[s])])) as Record<CleanStage, { median: number; worst: number }>,
};
if (values.json) console.log(JSON.stringify(result));
else {
  const input = rows[0]!;
  console.log(`\nOld-photo pipeline, ${items.length} photos of ${data} damaged by ${synthName} (seed ${seed}; repair ${result.repairStrength} with filler ${result.filler}, tone ${toneStrength}):`);
  console.log('| stage | PSNR (dB) | gain | SSIM | PSNR on damaged pixels (dB) | gain | s / photo |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const gain = (v: number, from: number): string => (r === input ? '' : `${v - from >= 0 ? '+' : ''}${(v - from).toFixed(2)}`);
    console.log(
      `| ${LABELS[r.stage]} | ${r.psnr.toFixed(2)} | ${gain(r.psnr, input.psnr)} | ${r.ssim.toFixed(4)} | ${r.damagedPsnr.toFixed(2)} | ${gain(r.damagedPsnr, input.damagedPsnr)} | ${r === input ? '' : r.secondsPerImage.toFixed(2)} |`,
    );
  }
  console.log(`Damage mask at strength ${result.repairStrength}: precision ${(100 * result.mask.precision).toFixed(1)}%, recall ${(100 * result.mask.recall).toFixed(1)}%, F1 ${result.mask.f1.toFixed(3)}`);
  console.log('The same photos undamaged, PSNR against themselves (median / worst, dB):');
  for (const stage of CLEAN_STAGES) {
    const { median, worst } = result.cleanThroughStage[stage];
    console.log(`  ${LABELS[stage]}: ${median.toFixed(2)} / ${worst.toFixed(2)}`);
  }
}
