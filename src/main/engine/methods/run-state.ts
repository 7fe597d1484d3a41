// run.json in a training run folder: what the run is doing or how it ended. Written at the start, after every
// epoch and at the end, so another process (the UI after a restart, a test, a second CLI) can tell whether a
// run is going, where it stopped and whether resuming makes sense. A run that crashed stays "running" with a
// pid that is gone.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrainRunStateSchema, type TrainRunState } from '#shared/training';
import { writeFileAtomic } from '../../fs-atomic';

export const RUN_STATE_FILE = 'run.json';

export async function writeRunState(workDir: string, state: TrainRunState): Promise<void> {
  await writeFileAtomic(join(workDir, RUN_STATE_FILE), JSON.stringify(state, null, 2));
}

export async function readRunState(workDir: string): Promise<TrainRunState | null> {
  try {
    const parsed = TrainRunStateSchema.safeParse(JSON.parse(await readFile(join(workDir, RUN_STATE_FILE), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
