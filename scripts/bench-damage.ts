// How well a damage detector finds defects: precision, recall and F1 per pixel on held-out photos damaged by
// the old-photo-damage synthesis (which knows where it drew), the share of pixels it flags on the same photos
// undamaged (should be ~0), and optionally against a real scan's hand-made scratch mask. Never pass a folder
// the detector was trained on.
//
//   npm run bench:damage -- <clean-dir> --model <detector dir|id> [--max-images <n>] [--seed <n>] [--strength <0..1>]
//        [--real-scan <png> --real-mask <png>] [--out <dir for predicted masks>] [--synth <preset|recipe.json>]
//        [--filler <fill model dir|id>] [--json]
//
// --synth: the damage synthesis (default old-photo-damage); docs/models/old-photo-damage-v1.recipe.json is the one
// before flakes joined it, what the first bundled detector was scored on.
//
// A pixel is damaged where the synthesis covered it at least 25%, flagged where the detector reaches the restore
// repair stage's threshold at --strength (default 0.5: a probability of 0.5). The undamaged photos also go through
// detection and fill, scored against themselves (what repair does to a clean photo).
// The fill stage (engine/infer/fill.ts) is scored too: PSNR against the clean photo on the damaged pixels,
// for the damaged input, for the fill from the detector's mask, and for the fill from the true mask (the
// best a perfect detector would allow), and on all pixels so a fill that harms the rest would show. With
// --filler (a fill-unet package, e.g. resources/models/fill) both fills are scored again refined by it.
// Runs on the best backend unless STUDIO_BACKEND says otherwise. Progress goes to stderr.
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { initBackend, resolvePreference } from '../src/main/engine/backend';
import { deriveSeed, loadRgbImage, openDataset, resolvePreset, synthesize, type RgbImage } from '../src/main/engine/data/index';
import { loadDamageDetector } from '../src/main/engine/infer/model';
import { detectDamage, repairThreshold } from '../src/main/engine/infer/repair';
import { fillDamage } from '../src/main/engine/data/fill';
import { loadDamageFiller, refineFill } from '../src/main/engine/infer/learned-fill';
import { addCounts, countMask, maskFromRgb, psnr, psnrFromMse, scoreCounts, squaredError, type MaskCounts } from '../src/main/engine/metrics/index';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    synth: { type: 'string', default: 'old-photo-damage' },
    model: { type: 'string' },
    filler: { type: 'string' },
    'max-images': { type: 'string' },
    seed: { type: 'string', default: '0' },
    strength: { type: 'string', default: '0.5' },
    'real-scan': { type: 'string' },
    'real-mask': { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const data = positionals[0];
if (!data || !values.model) {
  console.error('Usage: npm run bench:damage -- <folder of clean photos> --model <detector> [--max-images <n>] [--seed <n>] [--real-scan <png> --real-mask <png>] [--out <dir>] [--synth <preset|recipe.json>] [--json]');
  process.exit(2);
}
const seed = Number(values.seed);
await initBackend(resolvePreference(process.env.STUDIO_BACKEND ?? 'auto'));
const model = await loadDamageDetector(values.model);
const filler = values.filler ? await loadDamageFiller(values.filler) : null;
const synthName = values.synth!;
const recipe = await resolvePreset(synthName);

// The restore repair stage's threshold at this strength (0.5: the detector's own decision).
const threshold = repairThreshold(Number(values.strength));
const detect = (image: RgbImage): Promise<Float32Array> => detectDamage(model, image);

async function saveMask(name: string, mask: Float32Array, width: number, height: number): Promise<void> {
  if (!values.out) return;
  await mkdir(values.out, { recursive: true });
  const bytes = Buffer.from(Array.from(mask, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)));
  await writeFile(join(values.out, `${name}.png`), await sharp(bytes, { raw: { width, height, channels: 1 } }).png().toBuffer());
}

const items = (await openDataset(data)).items.slice(0, values['max-images'] ? Number(values['max-images']) : undefined);
let synthetic: MaskCounts = { tp: 0, fp: 0, fn: 0, tn: 0 };
let onClean: MaskCounts = { tp: 0, fp: 0, fn: 0, tn: 0 };
/** The undamaged photos through detection and fill: PSNR against themselves (unchanged would be 100). */
const cleanThroughRepair: number[] = [];
type Pooled = { sum: number; count: number };
const pool = (a: Pooled, b: Pooled): Pooled => ({ sum: a.sum + b.sum, count: a.count + b.count });
const FILLS = ['input', 'detected', 'truth', 'detectedLearned', 'truthLearned'] as const;
type FillKey = (typeof FILLS)[number];
const zeros = (): Record<FillKey, Pooled> => Object.fromEntries(FILLS.map((k) => [k, { sum: 0, count: 0 }])) as Record<FillKey, Pooled>;
const fillScores = { damaged: zeros(), all: zeros() };
/** Pull-push from a mask, and that refined by the filler (the same image when there is none). */
async function fills(image: RgbImage, mask: Float32Array, t: number): Promise<[RgbImage, RgbImage]> {
  const filled = fillDamage(image, mask, { threshold: t });
  return [filled.image, filler && filled.filledShare > 0 ? await refineFill(filler, image, filled) : filled.image];
}
const started = performance.now();
for (const item of items) {
  const clean = await loadRgbImage(item.clean);
  const { image, damage } = await synthesize(clean, recipe, deriveSeed(seed, 'damage-eval', item.id));
  const found = await detect(image);
  synthetic = addCounts(synthetic, countMask(found, damage, { threshold }));
  const [detected, detectedLearned] = await fills(image, found, threshold);
  const [truth, truthLearned] = await fills(image, damage, 0.25);
  const outputs = { input: image, detected, truth, detectedLearned, truthLearned };
  for (const key of FILLS) {
    fillScores.damaged[key] = pool(fillScores.damaged[key], squaredError(outputs[key].data, clean.data, { mask: damage, threshold: 0.25 }));
    fillScores.all[key] = pool(fillScores.all[key], squaredError(outputs[key].data, clean.data));
  }
  const foundOnClean = await detect(clean);
  onClean = addCounts(onClean, countMask(foundOnClean, new Float32Array(clean.width * clean.height), { threshold }));
  // As repair runs: with the filler when one is given.
  cleanThroughRepair.push(Math.min(100, psnr((await fills(clean, foundOnClean, threshold))[1].data, clean.data)));
  await saveMask(`${item.id.replace(/\.[^.]+$/, '')}-found`, found, clean.width, clean.height);
  await saveMask(`${item.id.replace(/\.[^.]+$/, '')}-truth`, damage, clean.width, clean.height);
  process.stderr.write('.');
}
process.stderr.write('\n');
const seconds = (performance.now() - started) / 1000 / Math.max(1, items.length) / 2;

let real: ReturnType<typeof scoreCounts> | null = null;
if (values['real-scan'] && values['real-mask']) {
  const scan = await loadRgbImage(values['real-scan']);
  const truth = maskFromRgb((await loadRgbImage(values['real-mask'])).data);
  if (truth.length !== scan.width * scan.height) throw new Error(`${values['real-mask']}: not the size of ${values['real-scan']}`);
  const found = await detect(scan);
  real = scoreCounts(countMask(found, truth, { threshold, truthThreshold: 0.5 }));
  await saveMask(`${basename(values['real-scan']).replace(/\.[^.]+$/, '')}-found`, found, scan.width, scan.height);
}
model.dispose();
filler?.dispose();

const db = (p: Pooled): number => psnrFromMse(p.count === 0 ? 0 : p.sum / p.count);
const scores = (p: Record<FillKey, Pooled>): { input: number; detectedMask: number; trueMask: number; detectedMaskLearned?: number; trueMaskLearned?: number } => ({
  input: db(p.input),
  detectedMask: db(p.detected),
  trueMask: db(p.truth),
  ...(filler ? { detectedMaskLearned: db(p.detectedLearned), trueMaskLearned: db(p.truthLearned) } : {}),
});
const fill = { filler: values.filler ?? null, damagedPixelsPsnr: scores(fillScores.damaged), allPixelsPsnr: scores(fillScores.all) };
const sortedClean = [...cleanThroughRepair].sort((a, b) => a - b);
const cleanPsnr = { median: sortedClean[Math.floor(sortedClean.length / 2)] ?? 100, worst: sortedClean[0] ?? 100 };
const result = {
  data,
  model: values.model,
  seed,
  synth: synthName,
  strength: Number(values.strength),
  threshold,
  images: items.length,
  secondsPerImage: seconds,
  synthetic: scoreCounts(synthetic),
  clean: { ...scoreCounts(onClean), psnrThroughRepair: cleanPsnr },
  real,
  fill,
};
if (values.json) console.log(JSON.stringify(result));
else {
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
  const s = result.synthetic;
  console.log(`\nDamage detection, ${items.length} photos of ${data} (seed ${seed}, strength ${result.strength}: threshold ${threshold.toFixed(2)}), ${seconds.toFixed(2)} s per photo:`);
  console.log(`  ${synthName}: precision ${pct(s.precision)}, recall ${pct(s.recall)}, F1 ${s.f1.toFixed(3)} (${pct(s.flagged)} of pixels flagged)`);
  console.log(
    `  the same photos undamaged: ${pct(result.clean.flagged)} of pixels flagged; through detection and fill, PSNR against themselves median ${cleanPsnr.median.toFixed(2)} dB, worst ${cleanPsnr.worst.toFixed(2)} dB`,
  );
  const f = (o: ReturnType<typeof scores>): string =>
    `input ${o.input.toFixed(2)} dB, filled from the detector's mask ${o.detectedMask.toFixed(2)} dB, from the true mask ${o.trueMask.toFixed(2)} dB` +
    (o.detectedMaskLearned === undefined ? '' : `; refined by the filler: ${o.detectedMaskLearned.toFixed(2)} dB and ${o.trueMaskLearned!.toFixed(2)} dB`);
  console.log(`  fill, on the damaged pixels: ${f(fill.damagedPixelsPsnr)}`);
  console.log(`  fill, on all pixels:         ${f(fill.allPixelsPsnr)}`);
  if (real) console.log(`  real scan ${values['real-scan']}: precision ${pct(real.precision)}, recall ${pct(real.recall)}, F1 ${real.f1.toFixed(3)}`);
}
