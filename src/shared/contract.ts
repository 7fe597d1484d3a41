// The studio's one typed contract between the UI (renderer) and the services (main process, or the
// browser-mode server). Every method's input and output, every event's params and data, as zod schemas.
import { z } from 'zod';
import { defineContract } from './rpc/protocol';
import { BackendNameSchema, BackendPreferenceSchema, BackendStatusSchema } from './engine-types';

export const AppModeSchema = z.enum(['electron', 'browser', 'cli']);

export const AppInfoSchema = BackendStatusSchema.extend({
  version: z.string(),
  mode: AppModeSchema,
  platform: z.string(),
  dataDir: z.string(),
  modelsDir: z.string(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

export const SettingsSchema = z.object({
  backend: BackendPreferenceSchema.default('auto'),
  /** 0 lets the engine choose. */
  threads: z.number().int().min(0).max(64).default(0),
  /** Tile edge in pixels for restoring large photos; 0 chooses from available memory. */
  tileSize: z.number().int().min(0).max(8192).default(0),
  outputFormat: z.enum(['keep', 'png', 'jpeg', 'webp']).default('keep'),
  quality: z.number().int().min(1).max(100).default(92),
  /** null: the default folder inside the app's data folder. */
  modelsDir: z.string().min(1).nullable().default(null),
  theme: z.enum(['system', 'light', 'dark']).default('system'),
});
export type Settings = z.infer<typeof SettingsSchema>;
export const SettingsPatchSchema = SettingsSchema.partial().strict();

export const FileEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  kind: z.enum(['dir', 'image', 'file']),
  size: z.number().nonnegative(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

export const FolderListingSchema = z.object({
  dir: z.string(),
  parent: z.string().nullable(),
  entries: z.array(FileEntrySchema),
});
export type FolderListing = z.infer<typeof FolderListingSchema>;

export const JobStateSchema = z.enum(['queued', 'running', 'paused', 'done', 'failed', 'cancelled']);
export const JobSchema = z.object({
  id: z.string(),
  kind: z.string(),
  title: z.string(),
  state: JobStateSchema,
  /** 0..1, or null when unknown. */
  progress: z.number().min(0).max(1).nullable(),
  message: z.string().default(''),
  error: z.object({ code: z.string(), message: z.string() }).nullable().default(null),
  startedAt: z.string(),
  endedAt: z.string().nullable().default(null),
});
export type Job = z.infer<typeof JobSchema>;

export const EngineStateSchema = z.object({
  state: z.enum(['stopped', 'starting', 'ready', 'crashed']),
  backend: BackendNameSchema.nullable(),
  message: z.string(),
});
export type EngineState = z.infer<typeof EngineStateSchema>;

/** Commands from the desktop shell (menu, second launch, dock drop) to the UI. */
export const AppCommandSchema = z.discriminatedUnion('command', [
  z.object({ command: z.literal('open-folder') }),
  z.object({ command: z.literal('open-paths'), paths: z.array(z.string()).min(1) }),
  z.object({ command: z.literal('navigate'), view: z.enum(['restore', 'compare', 'train', 'models', 'settings']) }),
]);
export type AppCommand = z.infer<typeof AppCommandSchema>;

const Empty = z.object({}).strict();

export const studioContract = defineContract({
  methods: {
    'app.info': { input: Empty, output: AppInfoSchema },
    'settings.get': { input: Empty, output: SettingsSchema },
    'settings.update': { input: SettingsPatchSchema, output: SettingsSchema },
    /** Lists a folder for the in-app folder browser (browser mode), images marked. */
    'files.list': { input: z.object({ dir: z.string().min(1).optional() }).strict(), output: FolderListingSchema },
    /** Native folder dialog in Electron; null where there is none (browser mode uses files.list). */
    'folders.pick': { input: Empty, output: z.string().nullable() },
    /** Grants the image route access to a folder the user opened. */
    'folders.open': { input: z.object({ dir: z.string().min(1) }).strict(), output: z.object({ dir: z.string() }) },
    'jobs.list': { input: Empty, output: z.array(JobSchema) },
    'jobs.cancel': { input: z.object({ jobId: z.string().min(1) }).strict(), output: JobSchema },
  },
  events: {
    /** Every change of any job (or of one job when jobId is given). */
    'jobs.update': { params: z.object({ jobId: z.string().optional() }).strict(), data: JobSchema },
    'engine.state': { params: Empty, data: EngineStateSchema },
    'app.command': { params: Empty, data: AppCommandSchema },
  },
});

export type StudioContract = typeof studioContract;
