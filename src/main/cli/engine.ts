// The one way from a CLI command into the engine: the engine contract, served in this process (the CLI has no
// window to keep responsive), with the models folder resolved once, as the app does: --models-dir, else the
// folder chosen in Settings, else the data folder's models/.
import { resolve } from 'node:path';
import { dataDir, looksLikePath } from '../paths';
import { EngineHost, inProcessLauncher } from '../services/engine-host';
import { SettingsStore } from '../services/settings';
import { applyBackendFlag } from './options';

export interface CliEngine {
  engine: EngineHost;
  /** Absolute models folder every model reference of the command is looked up in. */
  modelsDir: string;
}

/** The models folder for --models-dir (absent: Settings', else the default). */
export function cliModelsDir(flag: string | undefined): Promise<string> {
  return SettingsStore.inDataDir(dataDir()).modelsFolder(flag);
}

/** Starts the engine for one command (after applying --backend), runs `use` and stops the engine. */
export async function withEngine<T>(flags: { backend?: string; modelsDir?: string }, use: (ctx: CliEngine) => Promise<T>): Promise<T> {
  applyBackendFlag(flags.backend);
  const modelsDir = await cliModelsDir(flags.modelsDir);
  const engine = new EngineHost(await inProcessLauncher());
  try {
    return await use({ engine, modelsDir });
  } finally {
    engine.dispose();
  }
}

/** A model reference from the command line: a path (see looksLikePath) made absolute, an id as it is. */
export function modelRef(spec: string): string {
  return looksLikePath(spec) ? resolve(spec) : spec;
}
