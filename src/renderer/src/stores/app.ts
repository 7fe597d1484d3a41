// App-wide state: engine info and state, the connection, and settings.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { AppInfo, EngineState, Settings } from '#shared/contract';
import type { StudioError } from '#shared/rpc/errors';
import { api } from '../api';
import { describeError } from '../composables/errors';

export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null);
  const engine = ref<EngineState | null>(null);
  const settings = ref<Settings | null>(null);
  const connectionError = ref<string | null>(null);
  const infoError = ref<string | null>(null);

  const backendLabel = computed(() => {
    if (info.value) {
      const { backend, threads, tensorflow } = info.value;
      const engine = backend === 'tensorflow' && tensorflow ? `TensorFlow ${tensorflow.version} · ${tensorflow.device}` : backend;
      return `${engine} · ${threads} thread${threads === 1 ? '' : 's'}`;
    }
    if (infoError.value) return 'engine unavailable';
    return 'starting engine…';
  });

  async function loadInfo(): Promise<void> {
    try {
      info.value = await api.call('app.info', {});
      infoError.value = null;
    } catch (error) {
      infoError.value = describeError(error);
    }
  }

  async function loadSettings(): Promise<void> {
    settings.value = await api.call('settings.get', {});
    applyTheme(settings.value.theme);
  }

  async function updateSettings(patch: Partial<Settings>): Promise<void> {
    settings.value = await api.call('settings.update', patch);
    applyTheme(settings.value.theme);
    if (patch.backend !== undefined) await loadInfo();
  }

  function applyTheme(theme: Settings['theme']): void {
    if (theme === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  }

  function start(): void {
    api.subscribe('engine.state', {}, {
      data: (state) => {
        engine.value = state;
      },
      end: (error?: StudioError) => {
        if (error) connectionError.value = describeError(error);
      },
    });
    void loadInfo();
    void loadSettings().catch((error: unknown) => (connectionError.value = describeError(error)));
  }

  return { info, engine, settings, connectionError, infoError, backendLabel, start, loadInfo, updateSettings };
});
