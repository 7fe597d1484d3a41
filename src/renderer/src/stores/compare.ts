// What Compare shows: a list of photos (a restore batch's results), each with its versions (the original
// and one or more restorations, e.g. by two models), and the current photo.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';

export interface CompareVersion {
  label: string;
  path: string;
}

export interface CompareItem {
  name: string;
  versions: CompareVersion[];
}

export const useCompareStore = defineStore('compare', () => {
  const items = ref<CompareItem[]>([]);
  const index = ref(0);
  const current = computed(() => items.value[index.value] ?? null);

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

  return { items, index, current, show, next, previous };
});
