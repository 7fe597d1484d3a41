import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { StudioError } from '#shared/rpc/errors';
import { EvaluateParamsSchema, type EvaluateResult } from '#shared/evaluation';
import { modelRef, withEngine } from '../engine';
import { numberFlag, parseFlags } from '../flags';
import { formatDuration } from '../format';

const USAGE = `Usage: studio evaluate --model <id|folder> --data <paired-dir | clean-dir --synth <preset>> [options]

Runs a restoration model on every image of a dataset (whole images; big ones in large overlapping tiles) and
reports PSNR and SSIM of the restored output and of the degraded input against the clean image, per image
and on average. Metrics as published tables compute them: RGB, 8-bit output, PSNR over all channels
(identical images count as 100 dB), SSIM with an 11x11 Gaussian window (sigma 1.5).

Options:
  --model <id|dir>    model id in the models folder, or a model folder
  --data <dir>        a paired folder (degraded/ and clean/) or a folder of clean images
  --synth <preset>    degradation for clean folders (gaussian:<sigma>, jpeg:<quality>, old-photo, …)
  --seed <n>          seeds the synthesised degradations (default 0)
  --tile <px>         tile size for big images (default: chosen from available memory)
  --max-images <n>    evaluate only the first n images
  --best-quality      score the model's self-ensemble (8 orientations averaged), as restore --best-quality runs it
  --models-dir <dir>  the models folder
  --backend <name>    auto, tensorflow, wasm or cpu
  --json              one line on stdout: {"psnr","ssim","inputPsnr","inputSsim",
                      "images":[{"file","psnr","ssim","inputPsnr","inputSsim"}...], ...}`;

function printTable(result: EvaluateResult, out: (line: string) => void): void {
  const width = Math.max(4, ...result.images.map((i) => i.file.length));
  const row = (file: string, a: string, b: string, c: string, d: string): string =>
    `${file.padEnd(width)}  ${a.padStart(8)}  ${b.padStart(7)}  ${c.padStart(10)}  ${d.padStart(10)}`;
  out(row('FILE', 'PSNR', 'SSIM', 'INPUT PSNR', 'INPUT SSIM'));
  for (const i of result.images) out(row(i.file, i.psnr.toFixed(2), i.ssim.toFixed(4), i.inputPsnr.toFixed(2), i.inputSsim.toFixed(4)));
  out(row('mean', result.psnr.toFixed(2), result.ssim.toFixed(4), result.inputPsnr.toFixed(2), result.inputSsim.toFixed(4)));
  const gain = result.psnr - result.inputPsnr;
  out(
    `${result.images.length} image${result.images.length === 1 ? '' : 's'}, model "${result.model.name}": ` +
      `${gain >= 0 ? '+' : ''}${gain.toFixed(2)} dB PSNR, ${result.ssim - result.inputSsim >= 0 ? '+' : ''}${(result.ssim - result.inputSsim).toFixed(4)} SSIM over the input` +
      (result.synth ? ` (${result.synth}, seed ${result.seed})` : ''),
  );
  for (const s of result.skipped) out(`skipped ${s.file}: ${s.reason}`);
}

export const evaluateCommand: CliCommand = {
  name: 'evaluate',
  summary: 'Measure a model: PSNR/SSIM of its output and of the input on a dataset.',
  usage: USAGE,
  async run(args, io, signal) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        model: { type: 'string' },
        data: { type: 'string' },
        synth: { type: 'string' },
        seed: { type: 'string' },
        tile: { type: 'string' },
        'max-images': { type: 'string' },
        'best-quality': { type: 'boolean', default: false },
        'models-dir': { type: 'string' },
        backend: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (!values.model) throw new StudioError('BAD_INPUT', '--model is required: a model id or a model folder.');
    if (!values.data) throw new StudioError('BAD_INPUT', '--data is required: a paired folder, or a folder of clean images with --synth.');
    return withEngine({ backend: values.backend, modelsDir: values['models-dir'] }, async ({ engine, modelsDir }) => {
      const params = parseFlags(EvaluateParamsSchema, {
        model: modelRef(values.model!),
        data: resolve(values.data!),
        synth: values.synth || undefined,
        seed: numberFlag(values.seed),
        tile: numberFlag(values.tile),
        maxImages: numberFlag(values['max-images']),
        ensemble: values['best-quality'],
        modelsDir,
      });
      const { result } = await engine.run('evaluate.run', params, {
        signal,
        cancelled: 'Evaluation was cancelled.',
        onEvent: (event) => {
          if (event.type === 'start') {
            io.err(`Evaluating "${event.model.name}" on ${event.images} ${event.datasetKind === 'paired' ? 'pair' : 'image'}${event.images === 1 ? '' : 's'} (tiles up to ${event.tile} px)…`);
          } else if (event.type === 'image') {
            io.err(
              `[${event.index}/${event.total}] ${event.file}: PSNR ${event.psnr.toFixed(2)} dB (input ${event.inputPsnr.toFixed(2)}), ` +
                `SSIM ${event.ssim.toFixed(4)} (input ${event.inputSsim.toFixed(4)}) · ${formatDuration(event.seconds)}`,
            );
          } else if (event.type === 'skipped') {
            io.err(`skipped ${event.file}: ${event.reason}`);
          }
        },
      });
      if (values.json) {
        io.out(
          JSON.stringify({
            psnr: result.psnr,
            ssim: result.ssim,
            inputPsnr: result.inputPsnr,
            inputSsim: result.inputSsim,
            images: result.images.map((i) => ({ file: i.file, psnr: i.psnr, ssim: i.ssim, inputPsnr: i.inputPsnr, inputSsim: i.inputSsim })),
            model: result.model,
            data: result.data,
            synth: result.synth,
            seed: result.seed,
            skipped: result.skipped,
            seconds: Math.round(result.seconds * 100) / 100,
          }),
        );
      } else {
        printTable(result, io.out);
      }
      return 0;
    });
  },
};
