// One log file per day in the data folder's logs/ (e.g. logs/2026-11-24.log): job events and errors, one
// JSON object a line, so a person can read it and a program can parse it.
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

export type LogLevel = 'info' | 'warn' | 'error';

export class DailyLog {
  private ready: Promise<unknown> | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  static inDataDir(dataDir: string): DailyLog {
    return new DailyLog(join(dataDir, 'logs'));
  }

  /** The file today's lines go to (local date). */
  fileFor(date: Date): string {
    const pad = (n: number): string => String(n).padStart(2, '0');
    return join(this.dir, `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}.log`);
  }

  write(level: LogLevel, event: string, fields: Record<string, unknown> = {}): Promise<void> {
    const time = this.now();
    const line = JSON.stringify({ time: time.toISOString(), level, event, ...fields }) + '\n';
    this.ready ??= mkdir(this.dir, { recursive: true });
    // Lines are appended in order; a failed write never throws into the caller (logging must not break work).
    this.queue = this.queue
      .then(() => this.ready)
      .then(() => appendFile(this.fileFor(time), line))
      .catch(() => {});
    return this.queue;
  }

  info(event: string, fields?: Record<string, unknown>): Promise<void> {
    return this.write('info', event, fields);
  }

  error(event: string, fields?: Record<string, unknown>): Promise<void> {
    return this.write('error', event, fields);
  }
}
