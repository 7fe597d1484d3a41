// The train wizard: the choices of each step, then the live run (its events, replayed after a reload).
import { defineStore } from 'pinia';
import { computed, reactive, ref, watch } from 'vue';
import type { DatasetReport } from '#shared/dataset';
import type { TrainEvent, TrainParamsInput } from '#shared/training';
import type { ArchitectureSummary, ModelListItem } from '#shared/model-library';
import type { EpochRecord, HyperParams, LayerSummary } from '#shared/model-card';
import type { Job, SynthPreview } from '#shared/contract';
import { PRESET_CHOICES } from '#shared/presets';
import { api } from '../api';
import { followJobInto } from '../api/follow-job';
import { errorGuard } from '../composables/guard';

/** One batch's loss on the learning curves. */
export interface BatchPoint {
  /** Fractional epoch (e.g. 1.25 = a quarter into epoch 2). */
  x: number;
  loss: number;
}

/** The degradation presets the wizard offers (the list the CLI prints too). */
export const PRESETS = PRESET_CHOICES;

const FINE_TUNE_LR = 2e-4;
const FINE_TUNE_WARMUP = 100;

export interface TrainSettings {
  name: string;
  epochs: number;
  stepsPerEpoch: number;
  batchSize: number;
  patch: number;
  loss: 'mse' | 'l1' | 'charbonnier' | 'ssim-mix';
  lr: number;
  schedule: 'constant' | 'step' | 'cosine';
  warmup: number;
  earlyStopping: boolean;
  patience: number;
}

export const useTrainStore = defineStore('train', () => {
  const step = ref(1);
  const error = ref<string | null>(null);

  // Step 1: data
  const dataDir = ref<string | null>(null);
  const report = ref<DatasetReport | null>(null);
  const checking = ref(false);
  const preset = ref<string>('gaussian-blind');
  const preview = ref<SynthPreview | null>(null);
  const previewSeed = ref(0);

  // Step 2: architecture
  const architectures = ref<ArchitectureSummary[]>([]);
  const arch = ref<ArchitectureSummary['id']>('dncnn');
  const hyper = ref<HyperParams>({});
  const layers = ref<LayerSummary[]>([]);
  /** Installed restorers a run can start from (fine-tuning), and the chosen one (null: fresh weights). */
  const startModels = ref<ModelListItem[]>([]);
  const startFrom = ref<ModelListItem | null>(null);
  /** The chosen start model's hyper-parameters (its architecture as built), for the diagram and the timing. */
  const startHyper = ref<HyperParams | null>(null);

  // Step 3: hyper-parameters
  const settings = reactive<TrainSettings>({
    name: 'my-restorer',
    epochs: 10,
    stepsPerEpoch: 100,
    batchSize: 8,
    patch: 64,
    loss: 'l1',
    lr: 1e-3,
    schedule: 'cosine',
    warmup: 50,
    earlyStopping: true,
    patience: 5,
  });

  /** The user's installed models, to catch a taken name on the settings step (not after Start). */
  const installed = ref<ModelListItem[]>([]);
  /** The user chose to replace the model that has this name. */
  const overwrite = ref(false);

  // Step 4: the run
  const job = ref<Job | null>(null);
  const events = ref<TrainEvent[]>([]);
  /** Stop was asked for: the run finishes its step, saves and ends (that can take a while). */
  const stopping = ref(false);
  let stopListening: (() => void) | null = null;

  const needsPreset = computed(() => report.value?.kind === 'clean');
  const history = computed<EpochRecord[]>(() => events.value.flatMap((e) => (e.type === 'epoch' ? [e] : [])));
  const batches = computed<BatchPoint[]>(() =>
    events.value.flatMap((e) => (e.type === 'batch' ? [{ x: e.epoch - 1 + e.step / e.stepsPerEpoch, loss: e.loss }] : [])),
  );
  const lastBatch = computed(() => [...events.value].reverse().find((e) => e.type === 'batch') ?? null);
  const lastEpoch = computed(() => [...events.value].reverse().find((e) => e.type === 'epoch') ?? null);
  const started = computed(() => events.value.find((e) => e.type === 'start') ?? null);
  const done = computed(() => events.value.find((e) => e.type === 'done') ?? null);
  const warnings = computed(() => events.value.flatMap((e) => (e.type === 'warning' ? [e.message] : [])));

  /** The model that already has the chosen name, unless the user chose to replace it. */
  const nameTakenBy = computed(() => installed.value.find((m) => !m.bundled && m.id === settings.name) ?? null);

  /** Share of the run done, from the events (the job's own figure only moves at epoch ends). */
  const progress = computed(() => {
    const start = started.value?.type === 'start' ? started.value : null;
    const epochs = start?.epochs ?? settings.epochs;
    const end = done.value?.type === 'done' ? done.value : null;
    if (end) return end.status === 'cancelled' ? end.epochs / epochs : 1;
    const batch = lastBatch.value?.type === 'batch' ? lastBatch.value : null;
    const epoch = lastEpoch.value?.type === 'epoch' ? lastEpoch.value : null;
    if (batch && (!epoch || batch.epoch > epoch.epoch)) return Math.min(1, (batch.epoch - 1 + batch.step / batch.stepsPerEpoch) / epochs);
    if (epoch) return epoch.epoch / epochs;
    return start ? start.resumedFrom / epochs : 0;
  });

  /** The run's state in words: the job's state alone says "done" for a stopped run. */
  const phase = computed(() => {
    const state = job.value?.state;
    const end = done.value?.type === 'done' ? done.value : null;
    if (state === 'failed') return 'failed';
    if (state === 'cancelled') return 'cancelled';
    if (end) return end.status === 'completed' ? 'finished' : end.status === 'early-stopped' ? 'stopped early' : 'stopped';
    if (stopping.value) return 'stopping…';
    if (state === 'running') return started.value ? 'training' : 'starting…';
    return state ?? '—';
  });

  /** What the end of the run left behind, in one sentence. */
  const doneMessage = computed(() => {
    const end = done.value?.type === 'done' ? done.value : null;
    if (!end) return null;
    const epochs = started.value?.type === 'start' ? started.value.epochs : settings.epochs;
    if (!end.model) return 'Stopped before the first epoch ended; nothing was saved.';
    const saved = `saved “${settings.name}”`;
    if (end.status === 'completed') return `Finished all ${epochs} epochs; ${saved}.`;
    if (end.status === 'early-stopped') return `Stopped early after epoch ${end.epochs} of ${epochs} (validation stopped improving); ${saved}.`;
    return `Stopped after epoch ${end.epochs} of ${epochs}; ${saved}.`;
  });

  const guard = errorGuard(error);

  async function chooseData(dir: string): Promise<void> {
    dataDir.value = dir;
    report.value = null;
    preview.value = null;
    checking.value = true;
    await guard(async () => {
      await api.call('folders.open', { dir });
      report.value = await api.call('dataset.check', { dir });
      if (report.value.kind === 'clean') await refreshPreview();
    });
    checking.value = false;
  }

  async function refreshPreview(): Promise<void> {
    if (!dataDir.value) return;
    await guard(async () => {
      preview.value = await api.call('synth.preview', { dir: dataDir.value!, preset: preset.value, seed: previewSeed.value });
    });
  }

  /** The zoo (once) and the installed models a run can start from (each time: models come and go). */
  async function loadArchitectures(): Promise<void> {
    await guard(async () => {
      const first = architectures.value.length === 0;
      if (first) architectures.value = await api.call('models.architectures', {});
      const trainable = new Set<string>(architectures.value.filter((a) => a.task === 'restore').map((a) => a.id));
      startModels.value = (await api.call('models.list', {})).filter((m) => m.task === 'restore' && !m.error && m.arch && trainable.has(m.arch));
      if (startFrom.value && !startModels.value.some((m) => m.path === startFrom.value!.path)) startFrom.value = null;
      if (first || !startFrom.value) await chooseArch(arch.value);
    });
  }

  /** A fresh model of this architecture. */
  async function chooseArch(id: ArchitectureSummary['id']): Promise<void> {
    arch.value = id;
    hyper.value = {};
    startFrom.value = null;
    startHyper.value = null;
    layers.value = [];
    await guard(async () => {
      layers.value = await api.call('models.layers', { arch: id, hyper: {} });
    });
  }

  /**
   * Fine-tuning: the run starts from this installed model's weights and keeps its architecture. A lower
   * learning rate with a warm-up keeps what it has learnt (a fresh optimizer at 1e-3 wipes much of it out).
   */
  async function chooseStart(model: ModelListItem): Promise<void> {
    await guard(async () => {
      const details = await api.call('models.show', { id: model.id });
      const { id: archId, hyper: modelHyper } = details.card.architecture;
      const summary = architectures.value.find((a) => a.id === archId);
      if (!summary) throw new Error(`“${model.name ?? model.id}” is a ${archId} model, which the studio cannot train.`);
      layers.value = await api.call('models.layers', { arch: summary.id, hyper: modelHyper });
      arch.value = summary.id;
      hyper.value = {};
      startFrom.value = model;
      startHyper.value = modelHyper;
      settings.lr = Math.min(settings.lr, FINE_TUNE_LR);
      settings.warmup = Math.max(settings.warmup, FINE_TUNE_WARMUP);
    });
  }

  function params(resume: boolean): TrainParamsInput {
    return {
      data: dataDir.value!,
      ...(needsPreset.value ? { synth: preset.value } : {}),
      arch: arch.value,
      hyper: hyper.value,
      ...(startFrom.value ? { initFrom: startFrom.value.path } : {}),
      epochs: settings.epochs,
      stepsPerEpoch: settings.stepsPerEpoch,
      batchSize: settings.batchSize,
      patch: settings.patch,
      loss: settings.loss,
      lr: settings.lr,
      schedule: settings.schedule,
      warmup: settings.warmup,
      patience: settings.earlyStopping ? settings.patience : null,
      out: settings.name,
      name: settings.name,
      resume,
      ...(overwrite.value && !resume && nameTakenBy.value ? { overwrite: true } : {}),
    };
  }

  async function start(resume = false): Promise<void> {
    await guard(async () => {
      events.value = [];
      stopping.value = false;
      job.value = await api.call('train.start', params(resume));
      step.value = 4;
      listen(job.value.id);
    });
  }

  function listen(jobId: string): void {
    stopListening?.();
    stopListening = followJobInto(jobId, 'train.events', { events, job, error });
  }

  // "Replace it" was said of one name only.
  watch(
    () => settings.name,
    () => (overwrite.value = false),
  );

  // A run that fails before it starts (its data, its name) is a settings problem: back to that step with
  // the reason, instead of a dead end on the live page.
  watch(
    () => job.value?.state,
    (state) => {
      if (state === 'failed' && step.value === 4 && !started.value) step.value = 3;
    },
  );

  async function stop(): Promise<void> {
    if (!job.value) return;
    stopping.value = true;
    await guard(async () => void (await api.call('train.stop', { jobId: job.value!.id })));
    if (error.value) stopping.value = false;
  }

  /** The user's models, for the name check (quietly empty when they cannot be listed). */
  async function loadInstalled(): Promise<void> {
    installed.value = await api.call('models.list', {}).catch(() => []);
  }

  /** `base` if free, else base-2, base-3 … (a trailing -N of base is replaced). */
  function freeName(base: string): string {
    const taken = new Set(installed.value.filter((m) => !m.bundled).map((m) => m.id));
    if (!taken.has(base)) return base;
    const stem = base.replace(/-\d+$/, '');
    for (let n = 2; ; n++) if (!taken.has(`${stem}-${n}`)) return `${stem}-${n}`;
  }

  /** After a run: the wizard again, with a name that is not the last run's (that one is taken now). */
  async function newTraining(): Promise<void> {
    stopListening?.();
    stopListening = null;
    job.value = null;
    events.value = [];
    stopping.value = false;
    overwrite.value = false;
    error.value = null;
    await loadInstalled();
    settings.name = freeName(settings.name);
    step.value = 1;
  }

  async function cancel(): Promise<void> {
    if (job.value) await guard(async () => void (await api.call('jobs.cancel', { jobId: job.value!.id })));
  }

  /** An interrupted run for this output (a checkpoint to resume from), if any. */
  async function resumable(): Promise<number | null> {
    try {
      const info = await api.call('train.runInfo', { out: settings.name });
      return info.checkpointEpoch && info.run?.state !== 'completed' && info.run?.state !== 'early-stopped' ? info.checkpointEpoch : null;
    } catch {
      return null;
    }
  }

  /** Reattaches to a training job that is still running (after a reload). */
  async function reattach(): Promise<void> {
    const running = (await api.call('jobs.list', {})).filter((j) => j.kind === 'train').at(-1);
    if (running && !job.value) {
      job.value = running;
      step.value = 4;
      events.value = [];
      listen(running.id);
    }
  }

  return {
    step, error, dataDir, report, checking, preset, preview, previewSeed, architectures, arch, hyper, layers, startModels, startFrom,
    startHyper, settings, job, events, needsPreset, history, batches, lastBatch, lastEpoch, started, done, warnings,
    installed, overwrite, stopping, nameTakenBy, progress, phase, doneMessage,
    chooseData, refreshPreview, loadArchitectures, chooseArch, chooseStart, start, stop, cancel, resumable, reattach,
    loadInstalled, freeName, newTraining,
  };
});
