// Persistent settings: one JSON file in the data folder, validated by the contract's schema on read and
// write. A damaged file is kept aside (settings.json.bad) and defaults are used, rather than failing to start.
import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { SettingsSchema, type Settings } from '#shared/contract';
import { writeFileAtomic } from '../fs-atomic';
import { defaultModelsDir } from '../paths';

export class SettingsStore {
  private cache: Settings | null = null;
  private readonly listeners = new Set<(s: Settings) => void>();

  constructor(private readonly file: string) {}

  static inDataDir(dir: string): SettingsStore {
    return new SettingsStore(join(dir, 'settings.json'));
  }

  async get(): Promise<Settings> {
    if (this.cache) return this.cache;
    let raw: string;
    try {
      raw = await readFile(this.file, 'utf8');
    } catch {
      return (this.cache = SettingsSchema.parse({}));
    }
    try {
      const parsed = SettingsSchema.safeParse(JSON.parse(raw));
      if (parsed.success) return (this.cache = parsed.data);
    } catch {
      // fall through: not JSON
    }
    await rename(this.file, this.file + '.bad').catch(() => {});
    return (this.cache = SettingsSchema.parse({}));
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const next = SettingsSchema.parse({ ...(await this.get()), ...patch });
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(next, null, 2) + '\n');
    this.cache = next;
    for (const l of this.listeners) l(next);
    return next;
  }

  /**
   * The models folder every face uses: `override` (the CLI's --models-dir) when given, else the one chosen in
   * Settings, else the data folder's models/.
   */
  async modelsFolder(override?: string): Promise<string> {
    if (override) return resolve(override);
    return (await this.get()).modelsDir ?? defaultModelsDir();
  }

  onChange(listener: (s: Settings) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
