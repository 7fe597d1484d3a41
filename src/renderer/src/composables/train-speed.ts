// The wizard's speed estimate: a few real training steps of the chosen architecture, timed by the engine on
// this machine at the chosen batch and patch size (re-measured, debounced, when they change).
import { computed, ref, watch, type Ref } from 'vue';
import type { TrainSpeed } from '#shared/training';
import type { ArchitectureSummary } from '#shared/model-library';
import type { HyperParams } from '#shared/model-card';
import { api } from '../api';
import { describeError } from './errors';

export interface SpeedQuery {
  arch: ArchitectureSummary['id'];
  /** The architecture's hyper-parameters (a fine-tuned model's); the zoo's defaults when left out. */
  hyper?: HyperParams;
  batchSize: number;
  patch: number;
}

export function useTrainSpeed(query: () => SpeedQuery | null, debounceMs = 800) {
  /** The newest measurement (of whichever query) and the query it was made for. */
  const last: Ref<TrainSpeed | null> = ref(null);
  const lastKey = ref<string | null>(null);
  const currentKey = ref<string | null>(null);
  /** The measurement of the current query, null while it is being made. */
  const speed = computed(() => (lastKey.value === currentKey.value ? last.value : null));
  const measuring = ref(false);
  const error = ref<string | null>(null);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;

  async function measure(q: SpeedQuery, key: string): Promise<void> {
    const mine = ++generation;
    measuring.value = true;
    error.value = null;
    try {
      const result = await api.call('train.measureSpeed', { arch: q.arch, hyper: q.hyper ?? {}, batchSize: q.batchSize, patch: q.patch });
      if (mine === generation) {
        last.value = result;
        lastKey.value = key;
      }
    } catch (e) {
      if (mine === generation) error.value = `Could not time a training step: ${describeError(e)}`;
    } finally {
      if (mine === generation) measuring.value = false;
    }
  }

  watch(
    () => {
      const q = query();
      return q && q.batchSize >= 1 && q.patch >= 16 ? `${q.arch}|${JSON.stringify(q.hyper ?? {})}|${q.batchSize}|${q.patch}` : null;
    },
    (key) => {
      clearTimeout(timer);
      currentKey.value = key;
      const q = query();
      if (!key || !q) return;
      timer = setTimeout(() => void measure(q, key), debounceMs);
    },
    { immediate: true },
  );

  /**
   * Patches per second another architecture would reach at the GFLOP/s measured last (for the zoo list: one
   * measurement, scaled by each architecture's multiply-adds; the chosen one is timed itself).
   */
  function estimatePatchesPerSecond(macsPerPixel: number, patch: number): number | null {
    if (!last.value || macsPerPixel <= 0) return null;
    return (last.value.gflops * 1e9) / (3 * 2 * macsPerPixel * patch * patch);
  }

  return { speed, last, measuring, error, estimatePatchesPerSecond };
}
