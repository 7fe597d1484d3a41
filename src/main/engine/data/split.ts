// Deterministic train/validation split. Each item's side depends only on (seed, item id): adding or
// removing files never moves the other items between train and validation, so validation numbers stay
// comparable as a dataset grows. Small datasets get at least `minVal` validation items (the lowest hashes).
import { hashSeed } from './rng';
import type { DatasetItem } from './dataset';

export interface SplitOptions {
  /** Fraction of items for validation (default 0.1). */
  valFraction?: number;
  seed?: number;
  /** At least this many validation items when there are at least two items and valFraction > 0 (default 1). */
  minVal?: number;
}

export interface DatasetSplit {
  train: DatasetItem[];
  val: DatasetItem[];
}

/** Where in [0, 1) an item falls for a seed. */
export function splitScore(id: string, seed: number): number {
  return hashSeed(seed >>> 0, 'split', id) / 4294967296;
}

export function splitDataset(items: readonly DatasetItem[], options: SplitOptions = {}): DatasetSplit {
  const fraction = Math.min(1, Math.max(0, options.valFraction ?? 0.1));
  const seed = options.seed ?? 0;
  const scored = items.map((item) => ({ item, score: splitScore(item.id, seed) }));
  const valIds = new Set(scored.filter((s) => s.score < fraction).map((s) => s.item.id));
  const minVal = fraction > 0 && items.length >= 2 ? Math.min(options.minVal ?? 1, items.length - 1) : 0;
  if (valIds.size < minVal) {
    const byScore = scored.slice().sort((a, b) => a.score - b.score || (a.item.id < b.item.id ? -1 : 1));
    for (const s of byScore) {
      if (valIds.size >= minVal) break;
      valIds.add(s.item.id);
    }
  }
  // Training needs at least one item: keep the highest-scoring one there.
  if (fraction < 1 && items.length > 0 && valIds.size === items.length) {
    const top = scored.reduce((a, b) => (b.score > a.score ? b : a));
    valIds.delete(top.item.id);
  }
  return {
    train: items.filter((i) => !valIds.has(i.id)),
    val: items.filter((i) => valIds.has(i.id)),
  };
}
