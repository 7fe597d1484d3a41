// Puts a model trained with `studio train` into resources/models as a bundled model, with its provenance
// (the commands that made it, the machine, the training time, held-out scores) written into its card.
//
//   npm run bundle:model -- --from <trained model folder> --id <id> --commands <file> \
//     [--quality <bench:quality --json output>] [--threads <n>] [--notes <text>] [--description <what it restores>]
//     [--prior-seconds <n>] [--preset <name>] [--name <display name>] [--checkpoint <run-dir>/checkpoints/epoch-NNNN]
//     [--out-dir resources/models]
// --prior-seconds: training time of the runs before this one, for a model fine-tuned (--init-from) from an
// earlier run: its card only times the last run, the provenance states the whole cost.
// --checkpoint: bundle the weights of one epoch of the run instead of the saved model's (which --restore-best took
// from the epoch with the best validation PSNR, a noisy choice on a small validation set, or which a run still
// going saved when it was last stopped); the card's learning curves, final metrics and training time become
// that checkpoint's.
// --preset: the named preset the model restores, for a model trained with a recipe file that a preset now
// names (its card would otherwise say the file's path, which means nothing on a user's machine).
//
// --commands: a text file with the commands that reproduce the model, one per line (blank lines and lines
// starting with # are skipped). --quality: the JSON line `npm run bench:quality -- <dir> --json` printed;
// its rows for this model id become the card's held-out scores. The package is checked (it must load and its
// card must validate) and replaces any bundled model of the same id atomically.
import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import '@tensorflow/tfjs-backend-cpu';
import { z } from 'zod';
import { writeDirAtomic } from '../src/main/fs-atomic';
import { CARD_JSON, readCard, verifyPackage } from '../src/main/engine/package/index';
import { bundledModelsDir } from '../src/main/paths';
import { presetRecipe } from '../src/main/engine/data/synth/presets';
import { EpochRecordSchema, HeldOutScoreSchema, ModelCardSchema, PackageIdSchema, type HeldOutScore } from '#shared/model-card';

const { values } = parseArgs({
  options: {
    from: { type: 'string' },
    id: { type: 'string' },
    commands: { type: 'string' },
    quality: { type: 'string' },
    threads: { type: 'string', default: '1' },
    notes: { type: 'string' },
    description: { type: 'string' },
    'prior-seconds': { type: 'string', default: '0' },
    preset: { type: 'string' },
    name: { type: 'string' },
    checkpoint: { type: 'string' },
    'out-dir': { type: 'string' },
  },
});
if (!values.from || !values.id || !values.commands) {
  console.error('Usage: npm run bundle:model -- --from <model folder> --id <id> --commands <file> [--quality <json>] [--threads <n>] [--notes <text>] [--description <text>] [--prior-seconds <n>] [--preset <name>] [--name <display name>] [--checkpoint <dir>]');
  process.exit(2);
}
const id = PackageIdSchema.parse(values.id);
const priorSeconds = z.coerce.number().nonnegative().parse(values['prior-seconds']);
const outDir = values['out-dir'] ?? bundledModelsDir();
if (values.preset) presetRecipe(values.preset); // refuses a name the engine does not know

const QualityFileSchema = z.object({
  data: z.string(),
  seed: z.number().int(),
  rows: z.array(HeldOutScoreSchema.omit({ data: true, seed: true }).extend({ model: z.string() })),
});

const commands = (await readFile(values.commands, 'utf8'))
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

let evaluations: HeldOutScore[] = [];
if (values.quality) {
  const quality = QualityFileSchema.parse(JSON.parse(await readFile(values.quality, 'utf8')));
  evaluations = quality.rows
    .filter((r) => r.model === id)
    .map(({ model: _model, ...r }) => ({ ...r, data: basename(quality.data.replace(/[\\/]+$/, '')), seed: quality.seed }));
}

/** A run checkpoint's state.json: the epoch it holds and the learning curves up to it. */
const CheckpointStateSchema = z.object({
  epoch: z.number().int().positive(),
  history: z.array(EpochRecordSchema),
  /** Seconds of training up to this checkpoint. */
  elapsed: z.number().nonnegative().optional(),
});
/** The model files a checkpoint holds, which replace the saved model's. */
const CHECKPOINT_MODEL_FILES = ['model.json', 'weights.bin'];

const card = await readCard(values.from);
let training = card.training;
if (values.checkpoint && training) {
  // The run may have gone on since the model was saved (or stopped): the checkpoint says what it holds.
  const state = CheckpointStateSchema.parse(JSON.parse(await readFile(join(values.checkpoint, 'state.json'), 'utf8')));
  const record = state.history.find((h) => h.epoch === state.epoch);
  if (!record) throw new Error(`${values.checkpoint}/state.json has no history for its epoch ${state.epoch}.`);
  training = {
    ...training,
    history: state.history.filter((h) => h.epoch <= state.epoch),
    finalMetrics: { psnr: record.valPsnr ?? null, ssim: record.valSsim ?? null, loss: record.valLoss ?? record.loss },
    seconds: state.elapsed ?? training.seconds,
  };
}
const cpu = cpus();
const machine = `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${card.training?.backend ?? 'unknown'} backend with ${values.threads} thread(s), Node ${process.version}`;
const bundled = ModelCardSchema.parse({
  ...card,
  id,
  ...(values.name ? { name: values.name } : {}),
  training,
  restores: {
    ...card.restores,
    ...(values.preset ? { preset: values.preset } : {}),
    ...(values.description ? { description: values.description } : {}),
  },
  provenance: {
    commands,
    machine,
    trainingSeconds: priorSeconds + (training?.seconds ?? 0),
    evaluations,
    ...(values.notes ? { notes: values.notes } : {}),
  },
});

const target = join(outDir, id);
await writeDirAtomic(
  target,
  async (dir) => {
    for (const name of await readdir(values.from!)) {
      if (name === CARD_JSON) continue;
      await copyFile(join(values.from!, name), join(dir, name));
    }
    if (values.checkpoint) for (const name of CHECKPOINT_MODEL_FILES) await copyFile(join(values.checkpoint, name), join(dir, name));
    await writeFile(join(dir, CARD_JSON), `${JSON.stringify(bundled, null, 2)}\n`);
  },
  { replace: true },
);
await verifyPackage(target);
console.log(`Bundled ${bundled.name} as ${target} (${evaluations.length} held-out scores, ${commands.length} commands).`);
