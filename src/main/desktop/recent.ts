// Recently opened folders (File › Open Recent), most recent first, persisted in the data folder.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../fs-atomic';

const RecentSchema = z.array(z.string()).catch([]);
export const MAX_RECENT = 10;

export class RecentFolders {
  private items: string[] | null = null;
  private readonly listeners = new Set<(items: string[]) => void>();

  constructor(private readonly file: string) {}

  static inDataDir(dir: string): RecentFolders {
    return new RecentFolders(join(dir, 'recent-folders.json'));
  }

  async list(): Promise<string[]> {
    if (this.items) return this.items;
    const raw = await readFile(this.file, 'utf8').catch(() => '[]');
    let parsed: unknown = [];
    try {
      parsed = JSON.parse(raw);
    } catch {
      // a damaged file means no recents, not a failed start
    }
    return (this.items = RecentSchema.parse(parsed));
  }

  async add(dir: string): Promise<string[]> {
    const next = [dir, ...(await this.list()).filter((d) => d !== dir)].slice(0, MAX_RECENT);
    return this.save(next);
  }

  async clear(): Promise<string[]> {
    return this.save([]);
  }

  onChange(listener: (items: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async save(items: string[]): Promise<string[]> {
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(items, null, 2) + '\n');
    this.items = items;
    for (const l of this.listeners) l(items);
    return items;
  }
}
