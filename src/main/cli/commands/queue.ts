import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CliCommand, CliIO } from '../command';
import { StudioError } from '#shared/rpc/errors';
import { initBackend } from '../../engine/backend';
import { applyBackendFlag } from '../options';
import { DEFAULT_QUALITY, FORMAT_CHOICES, type FormatChoice } from '../../engine/infer/photo';
import { DEFAULT_RESTORE_MODEL, loadRestoreModel } from '../../engine/infer/model';
import { listImages, planOutputs } from '../../engine/infer/batch';
import { connectRedis, jobIdFor, parseRedisUrl, QUEUE_NAME, type RestoreJob } from '../../queue/jobs';
import { formatDuration, modelsDirOption } from './models';

const USAGE = `Usage: studio queue <add|status|retry-failed|clear> --redis <url> [options]

A batch shared by many machines: \`queue add\` puts one job per photo on a Redis queue and \`studio worker\`
processes (on this or other machines, with the same model package and the same paths) restore them.

  studio queue add <folder> --redis URL --out DIR [--model ID] [--recursive] [--format F] [--quality Q] [--json]
      One job per photo. A job's id comes from the photo's path and content and the restore settings, so
      adding the same folder again adds only what is new. The model is pinned by the hash of its files:
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
  --backend <name>    auto, tensorflow, wasm or cpu (add loads the model once to hash it)
  --json              one JSON line on stdout`;

const ADD_CHUNK = 500;

async function withQueue<T>(url: string, use: (queue: Queue, client: Redis) => Promise<T>): Promise<T> {
  const client = await connectRedis(url);
  const queue = new Queue(QUEUE_NAME, { connection: client });
  try {
    return await use(queue, client);
  } finally {
    await queue.close().catch(() => {});
    client.disconnect();
  }
}

async function add(values: Record<string, string | boolean | undefined>, positionals: string[], url: string, io: CliIO): Promise<number> {
  if (positionals.length !== 1) throw new StudioError('BAD_INPUT', 'Give exactly one folder of photos to add.');
  if (typeof values.out !== 'string') throw new StudioError('BAD_INPUT', 'Give the output folder with --out (a folder every worker can write to).');
  const format = (values.format ?? 'keep') as FormatChoice;
  if (!FORMAT_CHOICES.includes(format)) throw new StudioError('BAD_INPUT', `--format must be one of ${FORMAT_CHOICES.join(', ')} (got "${String(values.format)}").`);
  const quality = values.quality === undefined ? DEFAULT_QUALITY : Number(values.quality);
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new StudioError('BAD_INPUT', `--quality must be a whole number from 1 to 100 (got "${String(values.quality)}").`);
  const root = resolve(positionals[0]!);
  const rootStat = await stat(root).catch(() => null);
  if (!rootStat) throw new StudioError('NOT_FOUND', `There is no folder at ${root}.`);
  if (!rootStat.isDirectory()) throw new StudioError('BAD_INPUT', `${root} is not a folder; queue add takes a folder of photos.`);
  const out = resolve(values.out);
  if (out === root) throw new StudioError('BAD_INPUT', `The output folder cannot be the input folder (${root}): originals are never overwritten. Choose another --out.`);
  const recursive = values.recursive === true;
  const inputs = await listImages(root, recursive, [out]);
  if (inputs.length === 0) {
    throw new StudioError('NOT_FOUND', `No images found in ${root}${recursive ? ' or its subfolders' : '. Add --recursive to include subfolders'}.`, { reason: 'NO_IMAGES' });
  }

  // Check Redis before the (slower) model load, so a wrong URL is a sentence at once.
  (await connectRedis(url)).disconnect();
  const spec = typeof values.model === 'string' ? ((await stat(values.model).catch(() => null)) ? resolve(values.model) : values.model) : DEFAULT_RESTORE_MODEL;
  applyBackendFlag(values.backend as string | undefined);
  await initBackend();
  const modelsDir = await modelsDirOption(values['models-dir'] as string | undefined);
  const model = await loadRestoreModel(spec, modelsDir ? { modelsDir } : {});
  const fingerprint = model.fingerprint;
  model.dispose();

  const planned = planOutputs(root, out, inputs, format);
  let added = 0;
  let already = 0;
  await withQueue(url, async (queue, client) => {
    for (let i = 0; i < planned.length; i += ADD_CHUNK) {
      const chunk = planned.slice(i, i + ADD_CHUNK);
      const jobs = [];
      for (const plan of chunk) {
        const data: RestoreJob = { root, file: plan.file, out, output: plan.outputRel, model: spec, fingerprint, format, quality };
        const size = (await stat(plan.input)).size;
        jobs.push({ name: 'restore', data, opts: { jobId: await jobIdFor(plan.input, size, data), attempts: 3, backoff: { type: 'fixed', delay: 1000 } } });
      }
      const pipeline = client.pipeline();
      for (const job of jobs) pipeline.exists(queue.toKey(job.opts.jobId));
      const exists = (await pipeline.exec()) ?? [];
      const fresh = jobs.filter((_, k) => exists[k]?.[1] !== 1);
      already += jobs.length - fresh.length;
      if (fresh.length > 0) await queue.addBulk(fresh);
      added += fresh.length;
    }
  });
  if (values.json) io.out(JSON.stringify({ added, alreadyQueued: already, found: inputs.length, out, model: spec, fingerprint }));
  else io.out(`Added ${added} photo${added === 1 ? '' : 's'} to the queue (${already} already queued) → ${out}, model "${spec}" (${fingerprint}).`);
  return 0;
}

interface Status {
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  delayed: number;
  failures: { file: string; reason: string }[];
  photosPerSecond: number;
  etaSeconds: number | null;
}

const FAILURES_LISTED = 50;
const RATE_WINDOW_MS = 60_000;

async function status(queue: Queue): Promise<Status> {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'paused', 'active', 'completed', 'failed', 'delayed');
  const failedJobs = await queue.getFailed(0, FAILURES_LISTED - 1);
  const recent = await queue.getCompleted(0, 999);
  const now = Date.now();
  const inWindow = recent.filter((j) => j.finishedOn && now - j.finishedOn <= RATE_WINDOW_MS);
  const earliest = Math.min(...inWindow.map((j) => j.processedOn ?? j.finishedOn!));
  const span = inWindow.length > 0 ? Math.max(1, now - earliest) / 1000 : 0;
  const photosPerSecond = span > 0 ? inWindow.length / span : 0;
  const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.paused ?? 0);
  const left = waiting + (counts.active ?? 0) + (counts.delayed ?? 0);
  return {
    waiting,
    active: counts.active ?? 0,
    completed: counts.completed ?? 0,
    failed: counts.failed ?? 0,
    delayed: counts.delayed ?? 0,
    failures: failedJobs.map((j) => ({ file: String((j.data as Partial<RestoreJob> | undefined)?.file ?? j.id), reason: j.failedReason ?? 'unknown' })),
    photosPerSecond: Number(photosPerSecond.toFixed(3)),
    etaSeconds: left === 0 ? 0 : photosPerSecond > 0 ? Math.round(left / photosPerSecond) : null,
  };
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
        const s = await status(queue);
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
