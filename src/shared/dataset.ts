// Zod schemas of the data pipeline's JSON reports (CLI --json output, and what the app shows). Shared so the
// renderer can use them; imports only zod.
import { z } from 'zod';

export const DatasetKindSchema = z.enum(['paired', 'clean']);

export const UnreadableFileSchema = z.object({ file: z.string(), reason: z.string() });

export const SizeMismatchSchema = z.object({
  degraded: z.string(),
  clean: z.string(),
  degradedSize: z.tuple([z.number().int(), z.number().int()]),
  cleanSize: z.tuple([z.number().int(), z.number().int()]),
});

/** `studio dataset check --json`. Paths are relative to the dataset folder, with '/' separators. */
export const DatasetReportSchema = z.object({
  /** Absolute path of the dataset folder. */
  dir: z.string(),
  /** paired: degraded/ + clean/; clean: clean images only, degraded made by a synthesis recipe. */
  kind: DatasetKindSchema,
  counts: z.object({
    /** Every file seen (hidden files excluded). */
    files: z.number().int(),
    /** Files with an image extension. */
    images: z.number().int(),
    degraded: z.number().int(),
    clean: z.number().int(),
  }),
  /** Usable pairs: what training will use (for clean-only datasets, usable clean images). */
  pairs: z.number().int(),
  /** Image files without a partner on the other side. */
  unpaired: z.array(z.string()),
  /** The degraded file of each pair whose two images differ in size (details in sizeMismatchDetails). */
  sizeMismatch: z.array(z.string()),
  sizeMismatchDetails: z.array(SizeMismatchSchema),
  /** Image files that fail to decode (corrupt, truncated, not really an image). */
  unreadable: z.array(UnreadableFileSchema),
  /** Files that are not images (by extension). */
  nonImages: z.array(z.string()),
  /** Groups of files with identical bytes (sha-1 of the file). */
  duplicates: z.array(z.array(z.string())),
  /** Pairs whose degraded file is byte-identical to the clean one (kept, but they teach nothing). */
  identicalPairs: z.array(z.string()),
  /** Images smaller than minSize on a side (excluded: no patch fits). */
  tooSmall: z.array(z.string()),
  minSize: z.number().int(),
  /** What decoding does to get RGB out of each file. */
  conversions: z.object({
    exifRotated: z.array(z.string()),
    grayscale: z.array(z.string()),
    sixteenBit: z.array(z.string()),
    alpha: z.array(z.string()),
    cmyk: z.array(z.string()),
    multiFrame: z.array(z.string()),
  }),
  formats: z.record(z.string(), z.number().int()),
  /** Smallest and largest decoded sizes of usable images, or null when there are none. */
  sizes: z
    .object({ minWidth: z.number().int(), minHeight: z.number().int(), maxWidth: z.number().int(), maxHeight: z.number().int() })
    .nullable(),
  use: z.object({
    /** Pairs (or clean images) that will be used. */
    items: z.number().int(),
    /** Pairs (or clean images) found by name but left out (unreadable, size mismatch, too small, duplicate). */
    excluded: z.array(z.object({ id: z.string(), reason: z.string() })),
    /** True when degraded inputs are synthesised on the fly. */
    synthesis: z.boolean(),
  }),
  /** One human sentence: what will be used. */
  summary: z.string(),
});
export type DatasetReport = z.infer<typeof DatasetReportSchema>;

/** `studio synth --json`. */
export const SynthReportSchema = z.object({
  written: z.number().int(),
  out: z.string(),
  preset: z.string(),
  seed: z.number().int(),
  skipped: z.array(UnreadableFileSchema),
  /** True when the preset's noise was unclipped but had to be clipped/quantised to 8-bit PNG. */
  clippedToPng: z.boolean(),
});
export type SynthReport = z.infer<typeof SynthReportSchema>;

/** `studio dataset split --json`. */
export const SplitReportSchema = z.object({
  seed: z.number().int(),
  valFraction: z.number(),
  train: z.array(z.string()),
  val: z.array(z.string()),
});
export type SplitReport = z.infer<typeof SplitReportSchema>;

// ---------------------------------------------------------------------------------------------------------
// The engine's dataset and synthesis work (dataset.check, dataset.split, synth.run, synth.preview): its
// parameters and events. The limits here are the CLI's and the UI's.

const Seed = z.number().int().min(0).max(2 ** 32 - 1);

export const DatasetCheckParamsSchema = z
  .object({
    dir: z.string().min(1),
    /** Images with a side shorter than this are left out (the default patch size). */
    minSize: z.number().int().min(1).max(100_000).default(64),
  })
  .strict();
export type DatasetCheckParams = z.output<typeof DatasetCheckParamsSchema>;

export const DatasetCheckEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), done: z.number().int().nonnegative(), total: z.number().int().nonnegative() }),
  z.object({ type: z.literal('done'), report: DatasetReportSchema }),
]);
export type DatasetCheckEvent = z.infer<typeof DatasetCheckEventSchema>;

export const DatasetSplitParamsSchema = z
  .object({ dir: z.string().min(1), valFraction: z.number().min(0).max(1).default(0.1), seed: Seed.default(0) })
  .strict();

export const SynthRunParamsSchema = z
  .object({
    /** A folder of clean photos (or a paired folder, whose clean/ side is used). */
    input: z.string().min(1),
    out: z.string().min(1),
    preset: z.string().min(1),
    seed: Seed.default(0),
    /** Only the first n images, by name. */
    limit: z.number().int().min(1).optional(),
  })
  .strict();
export type SynthRunParams = z.output<typeof SynthRunParamsSchema>;

export const SynthEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('skipped'), file: z.string(), reason: z.string() }),
  z.object({ type: z.literal('progress'), done: z.number().int().nonnegative(), total: z.number().int().nonnegative() }),
  z.object({ type: z.literal('done'), report: SynthReportSchema }),
]);
export type SynthEvent = z.infer<typeof SynthEventSchema>;

export const SynthPreviewInputSchema = z
  .object({ dir: z.string().min(1), preset: z.string().min(1), seed: Seed.default(0), size: z.number().int().min(32).max(1024).default(256) })
  .strict();

export const SynthPreviewSchema = z.object({
  /** The source photo (a crop of it) and the same crop degraded by the preset, as PNG files. */
  clean: z.string(),
  degraded: z.string(),
  /** The degradation steps applied, in order, with their drawn parameters. */
  applied: z.array(z.string()),
});
export type SynthPreview = z.infer<typeof SynthPreviewSchema>;
