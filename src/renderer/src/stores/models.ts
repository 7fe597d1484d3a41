// The installed models: the list, the selected model's card and layers, and what can be done to them.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ModelDetails, ModelListItem } from '#shared/model-library';
import type { LayerSummary } from '#shared/model-card';
import { api } from '../api';
import { errorGuard } from '../composables/guard';

export const useModelsStore = defineStore('models', () => {
  const list = ref<ModelListItem[]>([]);
  const selected = ref<ModelDetails | null>(null);
  const layers = ref<LayerSummary[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const notice = ref<string | null>(null);

  const run = errorGuard(error);

  async function load(): Promise<void> {
    loading.value = true;
    await run(async () => {
      list.value = await api.call('models.list', {});
    });
    loading.value = false;
  }

  async function select(id: string): Promise<void> {
    // Another model's details (and its Delete button) must not stay on screen while this one loads.
    if (selected.value?.id !== id) selected.value = null;
    await run(async () => {
      selected.value = await api.call('models.show', { id });
      layers.value = [];
      layers.value = await api.call('models.layers', { id }).catch(() => []);
    });
  }

  async function rename(id: string, name: string): Promise<void> {
    await run(async () => {
      await api.call('models.rename', { id, name });
      await load();
      await select(id);
      notice.value = `Renamed to “${name}”.`;
    });
  }

  /** Saves the licence text of a model's card (null or empty clears it); rename keeps the current name. */
  async function setLicense(id: string, license: string | null): Promise<void> {
    const name = selected.value?.id === id ? selected.value.card.name : list.value.find((m) => m.id === id)?.name;
    if (!name) return;
    await run(async () => {
      const card = await api.call('models.rename', { id, name, license: license?.trim() || null });
      notice.value = card.license ? `Licence saved: “${card.license}”.` : 'Licence cleared.';
      await select(id);
    });
  }

  async function remove(id: string): Promise<void> {
    const name = list.value.find((m) => m.id === id)?.name ?? selected.value?.card.name ?? id;
    await run(async () => {
      await api.call('models.delete', { id });
      if (selected.value?.id === id) selected.value = null;
      await load();
      notice.value = `Deleted “${name}”.`;
    });
  }

  async function importFrom(source: string): Promise<void> {
    await run(async () => {
      const result = await api.call('models.import', { source });
      // Two models of one name cannot be told apart in a picker: the newcomer gets a number.
      const names = new Set(list.value.filter((m) => m.id !== result.id).map((m) => m.name ?? m.id));
      let name = result.card.name;
      for (let n = 2; names.has(name); n++) name = `${result.card.name} (${n})`;
      if (name !== result.card.name) await api.call('models.rename', { id: result.id, name });
      await load();
      await select(result.id);
      // Said once the list shows the newcomer, so what the notice names is there to be seen.
      notice.value =
        name !== result.card.name
          ? `Imported “${result.card.name}” as “${name}”: a model of that name is already installed.`
          : `Imported “${name}”.`;
    });
  }

  async function exportTo(id: string, out: string): Promise<void> {
    await run(async () => {
      const result = await api.call('models.export', { id, out });
      notice.value = `Exported to ${result.path} (${(result.bytes / 1024 / 1024).toFixed(1)} MB).`;
    });
  }

  return { list, selected, layers, loading, error, notice, load, select, rename, setLicense, remove, importFrom, exportTo };
});
