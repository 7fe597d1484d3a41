import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliCommand, CliIO } from '../command';
import { StudioError } from '#shared/rpc/errors';
import { initBackend } from '../../engine/backend';
import { applyBackendFlag } from '../options';
import { DEFAULT_QUALITY, FORMAT_CHOICES, type FormatChoice } from '../../engine/infer/photo';
import { DEFAULT_RESTORE_MODEL } from '../../engine/infer/model';
import { parseRedisUrl } from '../../queue/jobs';
import { enqueuePhotos, photosToQueue } from '../../queue/enqueue';
import type { SkippedEntry } from '../../queue/list-file';
import { queueStatus, withQueue } from '../../queue/status';
import { cliModelsDir } from '../engine';
import { formatDuration } from '../format';

const USAGE = `Usage: studio queue <add|status|retry-failed|clear> --redis <url> [options]

A batch shared by many machines: \`queue add\` puts one job per photo on a Redis queue and \`studio worker\`
processes (on this or other machines, with the same model package and the same paths) restore them.

  studio queue add <folder|list-file> --redis URL --out DIR [--model ID] [--recursive] [--format F] [--quality Q] [--json]
      One job per photo. A list file names one photo per line (relative paths from the list's folder; blank
      lines and # comments are skipped); outputs mirror the paths below the folder holding all of them, and
      a listed file that is missing is named and skipped (exit code 1) while the rest is queued. A job's id
      comes from the photo's path and content and the restore settings, so adding the same folder again
      adds only what is new. The model is pinned by the hash of its files:
      a worker with a different model refuses the job.
  studio queue status --redis URL [--json]
      Waiting, active, completed and failed jobs (with reasons), photos per second over the last minute, ETA.
      --json prints one line: {"waiting","active","completed","failed","delayed","failures":[{"file","reason"}],
      "photosPerSecond","etaSeconds"}
  studio queue retry-failed --redis URL [--json]
      Moves every failed job back to waiting.
  studio queue clear --redis URL [--json]
      Removes every job of the queue (waiting, active, done and failed); outputs already written stay.

Options:
  --redis <url>       redis://[user:password@]host:port[/db] (or rediss:// for TLS)
  --out <dir>         output folder (add)
  --model <id|dir>    model id in the models folder, or a model folder (default: "${DEFAULT_RESTORE_MODEL}")
  --models-dir <dir>  the models folder to look the model up in
  --recursive         include subfolders (mirrored in the output folder)
  --format <f>        keep (default), png, jpeg or webp
  --quality <n>       JPEG/WebP quality 1-100 (default ${DEFAULT_QUALITY})
  --tone <0..1>       after the model, bring back faded tones at this strength (as studio restore --tone)
  --repair <0..1>     before the model, find scratches and dust and fill them (as studio restore --repair)
  --repair-model <id|dir>  the damage detector (default: the bundled "damage" model)
  --fill-model <id|dir|none>  the damage filler for the repair's holes (default: the bundled "fill" model when
                      installed; none: interpolation alone)
  --backend <name>    auto, tensorflow, wasm or cpu (add loads the model once to hash it)
  --json              one JSON line on stdout`;

async function add(values: Record<string, string | boolean | undefined>, positionals: string[], url: string, io: CliIO): Promise<number> {
  if (positionals.length !== 1) throw new StudioError('BAD_INPUT', 'Give exactly one folder of photos, or one list file, to add.');
  if (typeof values.out !== 'string') throw new StudioError('BAD_INPUT', 'Give the output folder with --out (a folder every worker can write to).');
  const format = (values.format ?? 'keep') as FormatChoice;
  if (!FORMAT_CHOICES.includes(format)) throw new StudioError('BAD_INPUT', `--format must be one of ${FORMAT_CHOICES.join(', ')} (got "${String(values.format)}").`);
  const quality = values.quality === undefined ? DEFAULT_QUALITY : Number(values.quality);
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new StudioError('BAD_INPUT', `--quality must be a whole number from 1 to 100 (got "${String(values.quality)}").`);
  const tone = values.tone === undefined ? undefined : Number(values.tone);
  if (tone !== undefined && !(tone >= 0 && tone <= 1)) throw new StudioError('BAD_INPUT', `--tone is a strength from 0 to 1 (got "${String(values.tone)}").`);
  const repair = values.repair === undefined ? undefined : Number(values.repair);
  if (repair !== undefined && !(repair >= 0 && repair <= 1)) throw new StudioError('BAD_INPUT', `--repair is a strength from 0 to 1 (got "${String(values.repair)}").`);
  const modelArg = async (value: unknown): Promise<string | undefined> => (typeof value === 'string' ? ((await stat(value).catch(() => null)) ? resolve(value) : value) : undefined);
  const repairModel = await modelArg(values['repair-model']);
  const fillModel = await modelArg(values['fill-model']);
  const out = resolve(values.out);
  let photos;
  try {
    photos = await photosToQueue(positionals[0]!, out, values.recursive === true);
  } catch (error) {
    // Name every skipped list entry before the error itself, as when some are queued.
    for (const entry of ((error as StudioError).details as { skipped?: SkippedEntry[] } | undefined)?.skipped ?? []) io.err(`Skipped: ${entry.reason}.`);
    throw error;
  }
  for (const entry of photos.skipped) io.err(`Skipped: ${entry.reason}.`);

  const spec = typeof values.model === 'string' ? ((await stat(values.model).catch(() => null)) ? resolve(values.model) : values.model) : DEFAULT_RESTORE_MODEL;
  applyBackendFlag(values.backend as string | undefined);
  await initBackend();
  const modelsDir = await cliModelsDir(values['models-dir'] as string | undefined);
  const result = await enqueuePhotos({ ...photos, url, out, model: spec, lookup: modelsDir ? { modelsDir } : {}, format, quality, ...(tone ? { tone } : {}), ...(repair ? { repair, ...(repairModel ? { repairModel } : {}), ...(fillModel ? { fillModel } : {}) } : {}) });
  const { added, alreadyQueued } = result;
  if (values.json) io.out(JSON.stringify({ ...result, skipped: photos.skipped }));
  else {
    io.out(`Added ${added} photo${added === 1 ? '' : 's'} to the queue (${alreadyQueued} already queued) → ${out}, model "${spec}" (${result.fingerprint}).`);
    if (photos.skipped.length > 0) io.out(`${photos.skipped.length} listed entr${photos.skipped.length === 1 ? 'y was' : 'ies were'} skipped (named above).`);
  }
  // Like a batch where some photos failed: the rest is done, and the exit code says not everything was.
  return photos.skipped.length > 0 ? 1 : 0;
}

export const queueCommand: CliCommand = {
  name: 'queue',
  summary: 'Share a batch between machines: add photos to a Redis queue, see its progress (studio worker restores).',
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        redis: { type: 'string' },
        out: { type: 'string' },
        model: { type: 'string' },
        'models-dir': { type: 'string' },
        recursive: { type: 'boolean', default: false },
        format: { type: 'string' },
        quality: { type: 'string' },
        tone: { type: 'string' },
        repair: { type: 'string' },
        'repair-model': { type: 'string' },
        'fill-model': { type: 'string' },
        backend: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (sub !== 'add' && sub !== 'status' && sub !== 'retry-failed' && sub !== 'clear') {
      throw new StudioError('BAD_INPUT', sub ? `Unknown queue command "${sub}": use add, status, retry-failed or clear.` : 'Say what to do: studio queue add, status, retry-failed or clear.');
    }
    const url = parseRedisUrl(values.redis);
    if (sub === 'add') return add(values, positionals, url, io);
    if (positionals.length > 0) throw new StudioError('BAD_INPUT', `queue ${sub} takes no folder (got "${positionals[0]}").`);
    return withQueue(url, async (queue) => {
      if (sub === 'status') {
        const s = await queueStatus(queue);
        if (values.json) {
          io.out(JSON.stringify(s));
          return 0;
        }
        io.out(
          `${s.waiting} waiting, ${s.active} active, ${s.completed} completed, ${s.failed} failed${s.delayed ? `, ${s.delayed} to retry` : ''}` +
            (s.photosPerSecond > 0 ? ` · ${s.photosPerSecond.toFixed(2)} photos/s` : '') +
            (s.etaSeconds !== null && s.etaSeconds > 0 ? ` · ETA ${formatDuration(s.etaSeconds)}` : ''),
        );
        if (s.failures.length > 0) {
          io.out(`Failed${s.failed > s.failures.length ? ` (first ${s.failures.length} of ${s.failed})` : ''}:`);
          for (const f of s.failures) io.out(`  ${f.file}: ${f.reason}`);
          io.out('Run `studio queue retry-failed` to try them again.');
        }
        return 0;
      }
      if (sub === 'retry-failed') {
        const failed = await queue.getFailedCount();
        await queue.retryJobs({ state: 'failed' });
        if (values.json) io.out(JSON.stringify({ retried: failed }));
        else io.out(`Moved ${failed} failed job${failed === 1 ? '' : 's'} back to waiting.`);
        return 0;
      }
      const total = await queue.getJobCountByTypes('waiting', 'prioritized', 'paused', 'active', 'completed', 'failed', 'delayed');
      await queue.obliterate({ force: true });
      if (values.json) io.out(JSON.stringify({ removed: total }));
      else io.out(`Removed ${total} job${total === 1 ? '' : 's'} from the queue; outputs already written stay.`);
      return 0;
    });
  },
};
