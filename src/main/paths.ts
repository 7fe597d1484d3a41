// Where the studio keeps its data, found the same way by the app, the CLI and the server.
// Electron's userData on each platform is `<appData>/Restoration Studio`; the CLI computes the same folder
// so models and settings are shared. STUDIO_HOME overrides it (tests, portable installs).
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const APP_NAME = 'Restoration Studio';

export function appDataRoot(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'win32') return env.APPDATA ?? join(homedir(), 'AppData', 'Roaming');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support');
  return env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
}

export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.STUDIO_HOME ? resolve(env.STUDIO_HOME) : join(appDataRoot(process.platform, env), APP_NAME);
}

export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(dataDir(env), 'models');
}

/** The repository root in development (the folder holding package.json), found from this file. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/**
 * The bundled resources (default models, icons): `process.resourcesPath` in a packaged Electron app,
 * the repository's resources/ folder otherwise.
 */
export function resourcesDir(): string {
  const packaged = (process as { resourcesPath?: string }).resourcesPath;
  if (packaged && existsSync(join(packaged, 'models'))) return packaged;
  return join(projectRoot(), 'resources');
}

/** The models shipped with the app (resources/models); STUDIO_BUNDLED_MODELS points elsewhere (tests). */
export function bundledModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.STUDIO_BUNDLED_MODELS ?? join(resourcesDir(), 'models'));
}

/**
 * Whether a model reference (--model, --out, --init-from, a UI id) is a folder path rather than an id: it starts
 * with a dot or holds a slash or backslash (absolute paths on every platform do). Ids never do (PackageIdSchema).
 */
export function looksLikePath(spec: string): boolean {
  return spec.startsWith('.') || /[\\/]/.test(spec);
}

/** The built renderer (index.html and assets). */
export function rendererDir(): string {
  return join(projectRoot(), 'out', 'renderer');
}
