// Restore: the opened folder and its photos (with triage scores), the options, the running batch and its
// results.
import { defineStore } from 'pinia';
import { computed, reactive, ref, watch } from 'vue';
import type { FileEntry, Job } from '#shared/contract';
import type { ModelListItem } from '#shared/model-library';
import { NO_MODEL, type RestoreEvent } from '#shared/restore';
import { api } from '../api';
import { followJobInto } from '../api/follow-job';
import { describeError } from '../composables/errors';
import { errorGuard } from '../composables/guard';
import { DEFAULT_DAMAGE_MODEL, DEFAULT_FILL_MODEL, DEFAULT_RESTORE_MODEL, isOldPhotoModel } from '../composables/model-groups';
import { restoredFolderFor, type CompareItem } from './compare';

type Extract<T, K> = T extends { type: K } ? T : never;

/**
 * The repair and tone stages an old photo gets unless the user says otherwise: both at half strength, the
 * pipeline bench:old-photo measures (repair, the model, tone). Other restorers get neither: a detector would
 * take a sharp photo's fine edges for scratches, and a denoiser's user did not ask for new tones.
 */
export const OLD_PHOTO_STAGES = { repair: 0.5, tone: 0.5 } as const;

export const useRestoreStore = defineStore('restore', () => {
  const folder = ref<string | null>(null);
  const photos = ref<FileEntry[]>([]);
  /** Subfolders of the opened folder: their photos are restored only with "Include subfolders". */
  const subfolders = ref(0);
  const scores = ref<Record<string, number>>({});
  const triageNote = ref<string | null>(null);
  const models = ref<ModelListItem[]>([]);
  /** Installed damage detectors (task "detect"), for the repair stage; none means repair cannot be offered. */
  const detectors = ref<ModelListItem[]>([]);
  /** The installed damage filler (the model "fill", task "fill") that repair uses for its holes; null: interpolation alone. */
  const filler = ref<ModelListItem | null>(null);
  /** The first list has arrived (the engine answers it once it has started, a few seconds on native). */
  const modelsLoaded = ref(false);
  // tone: strength of the automatic tone and colour stage after the model (0 = off); repair: strength of the
  // damage repair before it (0 = off), with repairModel the detector that finds the damage; tile: Settings'
  // tile size (0 = the engine chooses from the memory it has).
  const options = reactive({
    model: '',
    format: 'keep' as 'keep' | 'png' | 'jpeg' | 'webp',
    quality: 92,
    recursive: false,
    tone: 0,
    repair: 0,
    repairModel: '',
    tile: 0,
  });
  /** The stage strengths the model on the picker suggested last: options still at them follow the next model. */
  let stageDefaults = { repair: 0, tone: 0 };
  const stagesSetByUser = new Set<'repair' | 'tone'>();
  const job = ref<Job | null>(null);
  const events = ref<RestoreEvent[]>([]);
  const error = ref<string | null>(null);
  let stopListening: (() => void) | null = null;

  const start = computed(() => events.value.find((e): e is Extract<RestoreEvent, 'start'> => e.type === 'start') ?? null);
  const progress = computed(() => [...events.value].reverse().find((e): e is Extract<RestoreEvent, 'progress'> => e.type === 'progress') ?? null);
  const files = computed(() => events.value.filter((e): e is Extract<RestoreEvent, 'file'> => e.type === 'file'));
  const failed = computed(() => files.value.filter((f) => f.status === 'failed'));
  const results = computed(() => files.value.filter((f) => f.status !== 'failed' && f.output));
  const done = computed(() => events.value.find((e): e is Extract<RestoreEvent, 'done'> => e.type === 'done') ?? null);
  const running = computed(() => job.value?.state === 'running');
  /** The model of the batch on screen (the picker may have moved on since). */
  const batchModel = ref<string | null>(null);
  const paused = computed(() => progress.value?.phase === 'paused');
  const sortedPhotos = computed(() =>
    [...photos.value].sort((a, b) => (scores.value[b.path] ?? -1) - (scores.value[a.path] ?? -1) || a.name.localeCompare(b.name)),
  );

  const guard = errorGuard(error);

  async function openFolder(dir: string): Promise<void> {
    await guard(async () => {
      const { dir: real } = await api.call('folders.open', { dir });
      const listing = await api.call('files.list', { dir: real });
      // The last batch belongs to the last folder; a batch still running keeps its progress on screen.
      if (!running.value) clearBatch();
      folder.value = real;
      photos.value = listing.entries.filter((e) => e.kind === 'image');
      subfolders.value = listing.entries.filter((e) => e.kind === 'dir').length;
      scores.value = {};
      triageNote.value = null;
      if (photos.value.length) void triage(real);
    });
  }

  function clearBatch(): void {
    stopListening?.();
    stopListening = null;
    job.value = null;
    events.value = [];
  }

  async function triage(dir: string): Promise<void> {
    try {
      const result = await api.call('triage.run', { dir });
      // An uncalibrated score is no probability (clean photos read 75%): better none than a misleading one.
      if (!result.calibrated) {
        triageNote.value = 'No damage scores: the damage classifier is not calibrated.';
        return;
      }
      scores.value = Object.fromEntries(result.scores.map((s) => [`${dir}/${s.file}`.replace(/\/+/g, '/'), s.score]));
    } catch (e) {
      triageNote.value = `Damage scores unavailable: ${describeError(e)}`;
    }
  }

  async function loadModels(): Promise<void> {
    let usable: ModelListItem[] = [];
    try {
      usable = (await api.call('models.list', {})).filter((m) => !m.error);
    } catch {
      usable = [];
    }
    models.value = usable.filter((m) => m.task === 'restore');
    detectors.value = usable.filter((m) => m.task === 'detect');
    filler.value = usable.find((m) => m.task === 'fill' && m.id === DEFAULT_FILL_MODEL) ?? null;
    modelsLoaded.value = true;
    // The pickers show real models only (and "none"): the default one chosen when it is there, else the first.
    if (options.model !== NO_MODEL && !models.value.some((m) => m.id === options.model)) {
      options.model = models.value.find((m) => m.id === DEFAULT_RESTORE_MODEL)?.id ?? models.value[0]?.id ?? '';
    }
    if (!detectors.value.some((m) => m.id === options.repairModel)) {
      options.repairModel = detectors.value.find((m) => m.id === DEFAULT_DAMAGE_MODEL)?.id ?? detectors.value[0]?.id ?? '';
    }
    // Repair left on with its detector gone would fail the whole batch: it is switched off instead.
    if (!options.repairModel) {
      if (options.repair === stageDefaults.repair) stageDefaults.repair = 0;
      options.repair = 0;
    }
    followStageDefaults();
  }

  /** Repair and tone for the model on the picker: an old-photo restorer (or none, repair and tone alone) gets both. */
  function stageDefaultsFor(modelId: string): { repair: number; tone: number } {
    const model = models.value.find((m) => m.id === modelId);
    const oldPhoto = modelId === NO_MODEL || (model ? isOldPhotoModel(model) : false);
    if (!oldPhoto) return { repair: 0, tone: 0 };
    return { repair: options.repairModel ? OLD_PHOTO_STAGES.repair : 0, tone: OLD_PHOTO_STAGES.tone };
  }

  /**
   * A stage the user has not set takes the suggestion for the model now picked; one they set (it differs from
   * the last suggestion, or did once) stays as they set it.
   */
  function followStageDefaults(): void {
    const next = stageDefaultsFor(options.model);
    for (const stage of ['repair', 'tone'] as const) {
      if (options[stage] !== stageDefaults[stage]) stagesSetByUser.add(stage);
      if (!stagesSetByUser.has(stage)) options[stage] = next[stage];
    }
    stageDefaults = next;
  }
  watch(() => options.model, followStageDefaults);

  async function run(retryFailed = false): Promise<void> {
    if (!folder.value) return;
    await guard(async () => {
      events.value = [];
      batchModel.value = options.model || DEFAULT_RESTORE_MODEL;
      job.value = await api.call('restore.start', {
        input: folder.value!,
        recursive: options.recursive,
        format: options.format,
        quality: options.quality,
        retryFailed,
        ...(options.tone > 0 ? { tone: options.tone } : {}),
        ...(options.repair > 0 && options.repairModel ? { repair: options.repair, repairModel: options.repairModel } : {}),
        ...(options.tile > 0 ? { tile: options.tile } : {}),
        // Each model's results in a folder of their own: a second model never overwrites the first's.
        out: restoredFolderFor(folder.value!, options.model || DEFAULT_RESTORE_MODEL),
        ...(options.model ? { model: options.model } : {}),
      });
      stopListening?.();
      stopListening = followJobInto(job.value.id, 'restore.events', { events, job, error });
    });
  }

  async function pause(): Promise<void> {
    if (job.value) await guard(async () => void (await api.call('restore.pause', { jobId: job.value!.id })));
  }
  async function resume(): Promise<void> {
    if (job.value) await guard(async () => void (await api.call('restore.resume', { jobId: job.value!.id })));
  }
  async function cancel(): Promise<void> {
    if (job.value) await guard(async () => void (await api.call('jobs.cancel', { jobId: job.value!.id })));
  }

  /** The batch's results as Compare items: the original beside its restoration. */
  function compareItems(): CompareItem[] {
    const root = start.value?.inputRoot ?? folder.value ?? '';
    const modelId = batchModel.value;
    const model = models.value.find((m) => m.id === modelId);
    return results.value.map((f) => ({
      name: f.file,
      versions: [
        { label: 'Original', path: `${root}/${f.file}` },
        { label: model?.name ?? (modelId === NO_MODEL ? 'No model (repair and tone only)' : modelId) ?? 'Restored', path: f.output!, model: modelId ?? undefined, ...(f.mask ? { mask: f.mask } : {}) },
      ],
    }));
  }

  return {
    folder, photos, subfolders, batchModel, scores, triageNote, models, detectors, filler, modelsLoaded, options, job, events, error, start, progress, files, failed, results, done,
    running, paused, sortedPhotos, openFolder, loadModels, run, pause, resume, cancel, compareItems,
  };
});
