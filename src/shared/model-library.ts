// The model library over a models folder: the list's rows, a model's details, import, export, rename (with
// its licence) and the zoo's architecture summaries. Shared by the engine, the services, the CLI and the UI;
// zod only, so the renderer can use it. Built on the model-card schemas (src/shared/model-card.ts).
import { z } from 'zod';
import { ArchitectureInfoSchema, ModelCardSchema, ModelTaskSchema } from './model-card';
import { PathString } from './path-string';

const ModelsDir = { modelsDir: PathString.optional() };

/** A row of the model list; a broken package has its error and null fields. */
export const ModelListItemSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  arch: z.string().nullable(),
  params: z.number().int().nonnegative().nullable(),
  path: z.string(),
  task: ModelTaskSchema.nullable(),
  source: ModelCardSchema.shape.source.nullable(),
  createdAt: z.string().nullable(),
  /** Validation PSNR of the trained model (dB), when known. */
  psnr: z.number().nullable(),
  error: z.string().nullable(),
  /** Shipped with the app: usable and exportable, not renamed or deleted. */
  bundled: z.boolean().default(false),
  /** What it restores (from its card), so pickers can group models by task. */
  restores: ModelCardSchema.shape.restores.nullable().default(null),
});
export type ModelListItem = z.infer<typeof ModelListItemSchema>;

export const ModelsListInputSchema = z.object(ModelsDir).strict();
export const ModelsListOutputSchema = z.array(ModelListItemSchema);

export const ModelRefInputSchema = z.object({ id: z.string().min(1), ...ModelsDir }).strict();

export const ModelDetailsSchema = z.object({
  id: z.string(),
  path: z.string(),
  card: ModelCardSchema,
  files: z.array(z.object({ name: z.string(), bytes: z.number().int().nonnegative() })),
  bytes: z.number().int().nonnegative(),
  bundled: z.boolean().default(false),
});
export type ModelDetails = z.infer<typeof ModelDetailsSchema>;

export const ModelImportInputSchema = z
  .object({
    /** A package zip, a model folder (package or tfjs layers model.json + weights) or a Keras .h5 file. */
    source: PathString,
    name: z.string().min(1).max(200).optional(),
    ...ModelsDir,
  })
  .strict();
export const ModelImportResultSchema = z.object({
  id: z.string(),
  path: z.string(),
  kind: z.enum(['zip', 'folder', 'keras', 'pytorch']),
  card: ModelCardSchema,
});
export type ModelImportResult = z.infer<typeof ModelImportResultSchema>;

export const ModelExportInputSchema = z.object({ id: z.string().min(1), out: PathString, ...ModelsDir }).strict();
export const ModelExportResultSchema = z.object({ path: z.string(), bytes: z.number().int().nonnegative() });

/** The licence text a user fills in on a card (null clears it). */
export const ModelLicenseSchema = z.string().trim().max(500).nullable();

export const ModelRenameInputSchema = z
  .object({ id: z.string().min(1), name: z.string().trim().min(1).max(200), license: ModelLicenseSchema.optional(), ...ModelsDir })
  .strict();

/** A zoo entry with its size at the default hyper-parameters. */
export const ArchitectureSummarySchema = ArchitectureInfoSchema.extend({
  params: z.number().int().nonnegative(),
  macsPerPixel: z.number().nonnegative(),
  requiredMultiple: z.number().int().positive(),
});
export type ArchitectureSummary = z.infer<typeof ArchitectureSummarySchema>;
