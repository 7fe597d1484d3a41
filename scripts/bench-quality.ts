// Quality of the bundled models on a folder of clean photos, next to their degraded input and (for Gaussian
// denoising) the published Kodak24 table. Never pass a folder the models were trained on.
//
//   npm run bench:quality -- <clean-dir> [--models-dir <dir>] [--max-images <n>] [--seed <n>] [--json]
//
// Rows: `denoise` at gaussian:15, gaussian:25 and gaussian:50 (unclipped noise, as the published tables),
// `old-photo` on the old-photo preset (not on old-photo-restore, what it is trained on: one photo in ten comes through
// untouched, capped at 100 dB, and the mean of per-photo PSNR would be theirs; `npm run bench:old-photo` judges it
// in the pipeline), and `dejpeg` at JPEG quality 10, 20, 30 and 40 (4:2:0). Every degradation is seeded (--seed, default 0), so a rerun sees
// the same inputs. Metrics are the evaluation job's (RGB, 8-bit, PSNR over all channels, 11x11 Gaussian SSIM).
// Models come from resources/models unless --models-dir names another folder; a missing one is reported and
// skipped. Runs on the wasm backend unless STUDIO_BACKEND says otherwise. Progress goes to stderr.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, resolvePreference } from '../src/main/engine/backend';
import { runEvaluateJob } from '../src/main/engine/methods/evaluate';
import { bundledModelsDir } from '../src/main/paths';

/** Colour Gaussian denoising on Kodak24, RGB PSNR in dB (FFDNet, DPIR and SwinIR papers' tables). */
const PUBLISHED_KODAK24: Record<number, Record<string, number>> = {
  15: { CBM3D: 34.28, CDnCNN: 34.6, FFDNet: 34.63, DRUNet: 35.31, SwinIR: 35.34 },
  25: { CBM3D: 32.15, CDnCNN: 32.14, FFDNet: 32.13, DRUNet: 32.89, SwinIR: 32.89 },
  50: { CBM3D: 28.46, CDnCNN: 28.95, FFDNet: 28.98, DRUNet: 29.86, SwinIR: 29.79 },
};

const CASES = [
  { model: 'denoise', synth: 'gaussian:15', sigma: 15 },
  { model: 'denoise', synth: 'gaussian:25', sigma: 25 },
  { model: 'denoise', synth: 'gaussian:50', sigma: 50 },
  { model: 'old-photo', synth: 'old-photo', sigma: null },
  // Blind JPEG artefact removal: the quality is never given to the model.
  { model: 'dejpeg', synth: 'jpeg:10', sigma: null },
  { model: 'dejpeg', synth: 'jpeg:20', sigma: null },
  { model: 'dejpeg', synth: 'jpeg:30', sigma: null },
  { model: 'dejpeg', synth: 'jpeg:40', sigma: null },
] as const;

interface Row {
  model: string;
  synth: string;
  images: number;
  inputPsnr: number;
  inputSsim: number;
  psnr: number;
  ssim: number;
  secondsPerImage: number;
  published: Record<string, number> | null;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'models-dir': { type: 'string' },
    'max-images': { type: 'string' },
    seed: { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  },
});
const data = positionals[0];
if (!data) {
  console.error('Usage: npm run bench:quality -- <folder of clean photos> [--models-dir <dir>] [--max-images <n>] [--seed <n>] [--json]');
  process.exit(2);
}
const modelsDir = values['models-dir'] ?? bundledModelsDir();
const seed = Number(values.seed);
const maxImages = values['max-images'] ? Number(values['max-images']) : undefined;

await initBackend(resolvePreference(process.env.STUDIO_BACKEND ?? 'wasm'));

const rows: Row[] = [];
for (const c of CASES) {
  const modelDir = join(modelsDir, c.model);
  if (!existsSync(modelDir)) {
    console.error(`${c.model}: no model at ${modelDir}; skipped.`);
    continue;
  }
  process.stderr.write(`${c.model} on ${c.synth}: `);
  const result = await runEvaluateJob(
    { model: modelDir, data, synth: c.synth, seed, ...(maxImages ? { maxImages } : {}) },
    { emit: (e) => e.type === 'image' && process.stderr.write('.') },
  );
  process.stderr.write(` ${result.psnr.toFixed(2)} dB\n`);
  for (const s of result.skipped) console.error(`  skipped ${s.file}: ${s.reason}`);
  rows.push({
    model: c.model,
    synth: c.synth,
    images: result.images.length,
    inputPsnr: result.inputPsnr,
    inputSsim: result.inputSsim,
    psnr: result.psnr,
    ssim: result.ssim,
    secondsPerImage: result.seconds / Math.max(1, result.images.length),
    published: c.sigma === null ? null : PUBLISHED_KODAK24[c.sigma]!,
  });
}

if (values.json) {
  console.log(JSON.stringify({ data, seed, rows }));
} else {
  const names = Object.keys(PUBLISHED_KODAK24[25]!);
  const header = ['model', 'degradation', 'images', 'input dB / SSIM', 'restored dB / SSIM', 'gain dB', 's/image', ...names.map((n) => `${n}*`)];
  const body = rows.map((r) => [
    r.model,
    r.synth,
    String(r.images),
    `${r.inputPsnr.toFixed(2)} / ${r.inputSsim.toFixed(4)}`,
    `${r.psnr.toFixed(2)} / ${r.ssim.toFixed(4)}`,
    (r.psnr - r.inputPsnr).toFixed(2),
    r.secondsPerImage.toFixed(2),
    ...names.map((n) => (r.published ? r.published[n]!.toFixed(2) : '')),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\nQuality on ${data} (seed ${seed}):\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const b of body) console.log(line(b));
  console.log('\n* published colour Gaussian denoising PSNR on Kodak24 (FFDNet, DPIR, SwinIR papers); compare only on Kodak24.');
}
