import { parseArgs } from 'node:util';
import { StudioError } from '#shared/rpc/errors';
import type { CliCommand } from '../command';
import { SynthRunParamsSchema } from '#shared/dataset';
import { PRESETS } from '../../engine/data/synth/presets';
import { withEngine } from '../engine';
import { numberFlag, parseFlags } from '../flags';

const usage = `Usage: studio synth <clean-dir> --out <dir> --preset <name> [--seed N] [--json] [--limit N]

Degrades every image of <clean-dir> (or of its clean/ subfolder) and writes a paired dataset:
<out>/clean/<name>.png (the clean image, oriented and converted to RGB) and <out>/degraded/<name>.png,
plus <out>/synth.json recording the preset, the seed and the parameters drawn for each image. The same
seed gives the same output. Files that cannot be read are skipped and reported. Never writes into the input.

  --out DIR       output folder (created if needed; must not be inside the input)
  --preset NAME   one of:
${PRESETS.map((p) => `                  ${p.name.padEnd(20)} ${p.description}`).join('\n')}
  --seed N        seed (default 0)
  --limit N       only the first N images (by name)
  --json          print one JSON line at the end: {"written","out","preset","seed","skipped":[{"file","reason"}]}`;

export const synthCommand: CliCommand = {
  name: 'synth',
  summary: 'Make a paired dataset from clean photos with a degradation preset (noise, JPEG, old-photo…).',
  usage,
  async run(args, io, signal) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        preset: { type: 'string' },
        seed: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1) throw new StudioError('BAD_INPUT', `studio synth takes one input folder, got ${positionals.length}.`);
    if (!values.out) throw new StudioError('BAD_INPUT', 'Missing --out <dir>.');
    if (!values.preset) throw new StudioError('BAD_INPUT', 'Missing --preset <name> (e.g. gaussian:25, jpeg:20, old-photo).');
    const params = parseFlags(SynthRunParamsSchema, {
      input: positionals[0],
      out: values.out,
      preset: values.preset,
      seed: numberFlag(values.seed),
      limit: numberFlag(values.limit),
    });
    const { report } = await withEngine({}, ({ engine }) =>
      engine.run('synth.run', params, {
        signal,
        onEvent: (e) => {
          if (e.type === 'skipped') io.err(`skipped ${e.file}: ${e.reason}`);
          else if (e.type === 'progress' && !values.json && (e.done % 25 === 0 || e.done === e.total)) io.err(`synth ${e.done}/${e.total}`);
        },
      }),
    );
    if (report.written === 0) {
      throw new StudioError('IMAGE_UNREADABLE', `None of the images could be read (${report.skipped.length} skipped).`, { skipped: report.skipped });
    }
    if (values.json) io.out(JSON.stringify(report));
    else {
      io.out(`Wrote ${report.written} pairs to ${report.out} (preset ${report.preset}, seed ${report.seed}).`);
      if (report.skipped.length) io.out(`Skipped ${report.skipped.length} file${report.skipped.length === 1 ? '' : 's'} (see above).`);
      if (report.clippedToPng) io.out('Note: the noise is unclipped in memory; the PNG files hold it clipped to 0–255 and rounded.');
    }
    return 0;
  },
};
