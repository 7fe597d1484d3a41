// The batch journal: one JSON object per line in the output folder, appended (and flushed) after every file,
// so a batch killed at any moment can be resumed. The last record of an input wins. Lines that do not parse
// (a write cut short by a crash) are ignored.
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export const JOURNAL_NAME = '.studio-restore.jsonl';
export const JOURNAL_VERSION = 1;

interface RecordBase {
  v: number;
  /** Absolute path of the input. */
  input: string;
  /** Path relative to the batch's input folder (what summaries show). */
  file: string;
  /** The input's size and modification time when it was processed. */
  size: number;
  mtimeMs: number;
  at: string;
}

export interface DoneRecord extends RecordBase {
  event: 'done';
  /** Output path relative to the output folder. */
  output: string;
  outputSize: number;
  /** Model fingerprint + format + quality: outputs made with other settings are redone. */
  settings: string;
  megapixels: number;
  seconds: number;
  tile: number;
}

export interface FailedRecord extends RecordBase {
  event: 'failed';
  reason: string;
}

/** Written just before an output is put in place: marks the output file as the batch's own. */
export interface WritingRecord extends RecordBase {
  event: 'writing';
  output: string;
}

export type JournalRecord = DoneRecord | FailedRecord | WritingRecord;

function isRecord(value: unknown): value is JournalRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<JournalRecord>;
  return (r.event === 'done' || r.event === 'failed' || r.event === 'writing') && typeof r.input === 'string' && typeof r.size === 'number' && typeof r.mtimeMs === 'number';
}

export class Journal {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly latest: Map<string, JournalRecord>,
    private readonly written: Set<string>,
  ) {}

  /** Opens (creating if needed) the journal of an output folder and reads what it already holds. */
  static async open(outDir: string): Promise<Journal> {
    const path = join(outDir, JOURNAL_NAME);
    const latest = new Map<string, JournalRecord>();
    const written = new Set<string>();
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const record = JSON.parse(line) as unknown;
        if (isRecord(record)) {
          latest.set(record.input, record);
          if (record.event !== 'failed') written.add(record.output);
        }
      } catch {
        // a torn last line from a crash
      }
    }
    const handle = await open(path, 'a');
    // A torn last line would glue onto the next record: start on a fresh line.
    if (text.length > 0 && !text.endsWith('\n')) await handle.write('\n');
    return new Journal(path, handle, latest, written);
  }

  /** The last record of an input, if any. */
  last(input: string): JournalRecord | undefined {
    return this.latest.get(input);
  }

  records(): JournalRecord[] {
    return [...this.latest.values()];
  }

  /** Whether a batch writing to this folder ever put (or started to put) this output in place. */
  wrote(output: string): boolean {
    return this.written.has(output);
  }

  async append(record: JournalRecord): Promise<void> {
    this.latest.set(record.input, record);
    if (record.event !== 'failed') this.written.add(record.output);
    await this.handle.write(JSON.stringify(record) + '\n');
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
