// What Compare shows: a list of photos (a restore batch's results), each with its versions (the original
// and one or more restorations, e.g. by two models), and the current photo. `restoreWith` makes another
// version of the current photo with a second model, so two models can be compared on the same photo.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { Job } from '#shared/contract';
import type { ModelListItem } from '#shared/model-library';
import { api } from '../api';
import { followJob } from '../api/follow-job';
import { describeError } from '../composables/errors';

export interface CompareVersion {
  label: string;
  path: string;
  /** The model that made it (none for the original). */
  model?: string;
  /** The damage mask the repair stage filled on the way (a red-on-transparent PNG, the original's size). */
  mask?: string;
}

export interface CompareItem {
  name: string;
  versions: CompareVersion[];
}

/** `<folder>-restored-<model>` beside a folder: one folder per model, never the original's folder. */
export function restoredFolderFor(folder: string, modelId: string): string {
  return `${folder.replace(/[\\/]+$/, '')}-restored-${modelId.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** The output folder of one photo restored with a model (beside the photo's folder). */
export function outputFolderFor(photo: string, modelId: string): string {
  return restoredFolderFor(photo.replace(/[\\/][^\\/]*$/, ''), modelId);
}

export const useCompareStore = defineStore('compare', () => {
  const items = ref<CompareItem[]>([]);
  const index = ref(0);
  const current = computed(() => items.value[index.value] ?? null);
  const models = ref<ModelListItem[]>([]);
  /** The other-model restoration in progress (its job), and the last problem with one. */
  const job = ref<Job | null>(null);
  const working = computed(() => ['queued', 'running', 'paused'].includes(job.value?.state ?? ''));
  const error = ref<string | null>(null);

  function show(list: CompareItem[], start = 0): void {
    items.value = list;
    index.value = Math.min(Math.max(0, start), Math.max(0, list.length - 1));
  }

  function next(): void {
    if (index.value < items.value.length - 1) index.value++;
  }

  function previous(): void {
    if (index.value > 0) index.value--;
  }

  async function loadModels(): Promise<void> {
    try {
      models.value = (await api.call('models.list', {})).filter((m) => m.task === 'restore' && !m.error);
    } catch (e) {
      error.value = `The models could not be listed: ${describeError(e)}`;
    }
  }

  /**
   * Restores the current photo's original with another model and adds the result as a version (resolves with
   * its index once it exists). A photo that model already restored is reused, not redone.
   */
  async function restoreWith(modelId: string): Promise<number | null> {
    const item = current.value;
    const original = item?.versions[0];
    if (!item || !original) return null;
    const model = models.value.find((m) => m.id === modelId);
    const label = model?.name ?? modelId;
    error.value = null;
    // A model this photo already has a version of: show that one, do not make it again.
    const had = item.versions.findIndex((v) => v.model === modelId);
    if (had >= 0) return had;
    try {
      const started = await api.call('restore.start', { input: original.path, out: outputFolderFor(original.path, modelId), model: modelId });
      job.value = started;
      return await new Promise<number | null>((resolve) => {
        // The promise settles with the photo's result; the job is followed until it ends (so `working` clears).
        let settled = false;
        const finish = (value: number | null): void => {
          if (settled) return;
          settled = true;
          resolve(value);
        };
        const stop = followJob(started.id, 'restore.events', {
          event: (e) => {
            if (e.type === 'file' && e.status === 'failed') {
              error.value = `${label} could not restore ${item.name}: ${e.reason ?? 'unknown error'}`;
            } else if (e.type === 'file' && e.output) {
              const existing = item.versions.findIndex((v) => v.path === e.output);
              if (existing >= 0) return finish(existing);
              item.versions.push({ label, path: e.output, model: modelId });
              finish(item.versions.length - 1);
            } else if (e.type === 'done') finish(null);
          },
          job: (update) => {
            job.value = update;
            if (['done', 'failed', 'cancelled'].includes(update.state)) {
              stop();
              finish(null);
            }
          },
          error: (message) => {
            error.value = message;
            finish(null);
          },
        });
      });
    } catch (e) {
      error.value = describeError(e);
      return null;
    }
  }

  return { items, index, current, models, job, working, error, show, next, previous, loadModels, restoreWith };
});
