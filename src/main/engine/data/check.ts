// `checkDataset`: decodes every image of a dataset folder once and reports what is wrong with it and what
// will be used. It never throws because of a bad file: each failure becomes a line of the report.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '#shared/rpc/errors';
import { type Dataset, type DatasetItem, relativeToRoot, scanDataset } from './dataset';
import { type DecodeNotes, decodeFailureReason, decodeImage } from './image';
import type { DatasetReport } from '#shared/dataset';

export interface CheckOptions {
  /** Images with a side shorter than this are excluded (default 64, the default patch size). */
  minSize?: number;
  /** Files decoded at once (default 2). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface DatasetCheck {
  report: DatasetReport;
  /** The dataset restricted to the items the report says will be used. */
  dataset: Dataset;
}

interface FileFacts {
  ok: boolean;
  reason?: string;
  width?: number;
  height?: number;
  notes?: DecodeNotes;
  hash?: string;
}

/** Runs fn over items with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

async function inspect(path: string): Promise<FileFacts> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    return { ok: false, reason: `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  const hash = createHash('sha1').update(bytes).digest('hex');
  if (bytes.length === 0) return { ok: false, reason: 'empty file', hash };
  try {
    const { image, notes } = await decodeImage(bytes);
    return { ok: true, width: image.width, height: image.height, notes, hash };
  } catch (error) {
    return { ok: false, reason: decodeFailureReason(error), hash };
  }
}

export async function checkDataset(dir: string, options: CheckOptions = {}): Promise<DatasetCheck> {
  const minSize = options.minSize ?? 64;
  const scan = await scanDataset(dir);
  const { dataset } = scan;
  const facts = new Map<string, FileFacts>();
  const files = scan.imageFiles;
  let done = 0;
  await mapLimit(files, options.concurrency ?? 2, async (rel) => {
    throwIfAborted(options.signal);
    facts.set(rel, await inspect(join(dataset.root, rel)));
    options.onProgress?.(++done, files.length);
  });

  const unreadable = files.filter((f) => !facts.get(f)!.ok).map((f) => ({ file: f, reason: facts.get(f)!.reason ?? 'unreadable' }));
  const conversions: DatasetReport['conversions'] = { exifRotated: [], grayscale: [], sixteenBit: [], alpha: [], cmyk: [], multiFrame: [] };
  const formats: Record<string, number> = {};
  for (const f of files) {
    const n = facts.get(f)!.notes;
    if (!n) continue;
    formats[n.format] = (formats[n.format] ?? 0) + 1;
    if (n.orientation) conversions.exifRotated.push(f);
    if (n.grayscale) conversions.grayscale.push(f);
    if (n.sixteenBit) conversions.sixteenBit.push(f);
    if (n.alpha) conversions.alpha.push(f);
    if (n.cmyk) conversions.cmyk.push(f);
    if (n.frames) conversions.multiFrame.push(f);
  }

  // Byte-identical files, anywhere in the dataset.
  const byHash = new Map<string, string[]>();
  for (const f of files) {
    const h = facts.get(f)!.hash;
    if (!h) continue;
    const list = byHash.get(h) ?? [];
    list.push(f);
    byHash.set(h, list);
  }
  const duplicates = [...byHash.values()].filter((g) => g.length > 1);

  const sizeMismatch: string[] = [];
  const sizeMismatchDetails: DatasetReport['sizeMismatchDetails'] = [];
  const identicalPairs: string[] = [];
  const tooSmall = new Set<string>();
  const excluded: DatasetReport['use']['excluded'] = [];
  const usable: DatasetItem[] = [];
  const seen = new Set<string>();
  let minW = Infinity;
  let minH = Infinity;
  let maxW = 0;
  let maxH = 0;

  for (const item of dataset.items) {
    const cleanRel = relativeToRoot(dataset, item.clean);
    const degradedRel = item.degraded ? relativeToRoot(dataset, item.degraded) : undefined;
    const c = facts.get(cleanRel)!;
    const d = degradedRel ? facts.get(degradedRel)! : undefined;
    const reasons: string[] = [];
    if (!c.ok) reasons.push(`${cleanRel} is unreadable`);
    if (d && !d.ok) reasons.push(`${degradedRel} is unreadable`);
    if (c.ok && d?.ok && (c.width !== d.width || c.height !== d.height)) {
      sizeMismatch.push(degradedRel!);
      sizeMismatchDetails.push({
        degraded: degradedRel!,
        clean: cleanRel,
        degradedSize: [d.width!, d.height!],
        cleanSize: [c.width!, c.height!],
      });
      reasons.push(`sizes differ (degraded ${d.width}x${d.height}, clean ${c.width}x${c.height})`);
    }
    for (const [rel, f] of [[cleanRel, c], [degradedRel, d]] as const) {
      if (rel && f?.ok && Math.min(f.width!, f.height!) < minSize) {
        tooSmall.add(rel);
        reasons.push(`${rel} is smaller than ${minSize}px`);
      }
    }
    if (d && c.hash && d.hash === c.hash) identicalPairs.push(degradedRel!);
    const key = `${c.hash ?? cleanRel}|${d?.hash ?? ''}`;
    if (reasons.length === 0 && seen.has(key)) reasons.push(d ? 'duplicate of another pair' : 'duplicate of another image');
    if (reasons.length > 0) {
      excluded.push({ id: item.id, reason: reasons.join('; ') });
      continue;
    }
    seen.add(key);
    usable.push(item);
    minW = Math.min(minW, c.width!);
    minH = Math.min(minH, c.height!);
    maxW = Math.max(maxW, c.width!);
    maxH = Math.max(maxH, c.height!);
  }
  // Unpaired files that are too small are worth knowing about too.
  for (const f of files) {
    const x = facts.get(f)!;
    if (x.ok && Math.min(x.width!, x.height!) < minSize) tooSmall.add(f);
  }

  const synthesis = dataset.kind === 'clean';
  const unit = synthesis ? 'clean image' : 'pair';
  const plural = (n: number): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
  const summary =
    usable.length === 0
      ? `Nothing usable: ${dataset.kind === 'paired' ? 'no readable pairs of the same size' : 'no readable images'}.`
      : `Will use ${plural(usable.length)}` +
        (excluded.length ? `, leaving out ${plural(excluded.length)}` : '') +
        (scan.unpaired.length ? ` and ${scan.unpaired.length} file${scan.unpaired.length === 1 ? '' : 's'} without a partner` : '') +
        (synthesis ? '; degraded inputs will be synthesised on the fly.' : '.');

  const report: DatasetReport = {
    dir: dataset.root,
    kind: dataset.kind,
    counts: {
      files: scan.imageFiles.length + scan.nonImages.length,
      images: scan.imageFiles.length,
      degraded: scan.counts.degraded,
      clean: scan.counts.clean,
    },
    pairs: usable.length,
    unpaired: scan.unpaired,
    sizeMismatch,
    sizeMismatchDetails,
    unreadable,
    nonImages: scan.nonImages,
    duplicates,
    identicalPairs,
    tooSmall: [...tooSmall].sort(),
    minSize,
    conversions,
    formats,
    sizes: usable.length ? { minWidth: minW, minHeight: minH, maxWidth: maxW, maxHeight: maxH } : null,
    use: { items: usable.length, excluded, synthesis },
    summary,
  };
  return { report, dataset: { ...dataset, items: usable } };
}
