// `npm start`: builds if needed, then opens the desktop app. Electron's binary is not part of `npm install`
// here (its download is denied in allowScripts); this fetches it on demand with electron's own install
// script, and where that cannot work (no network, no display) starts browser mode and says why.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIfNeeded } from './build-if-needed';
import { electronBinaryPath, electronExit, electronLaunch } from '../src/main/desktop/electron-launch';

const ELECTRON_DIR = join('node_modules', 'electron');

function installedElectron(): string | null {
  const pathFile = join(ELECTRON_DIR, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = join(ELECTRON_DIR, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

function electronBinary(): string | null {
  const binary = electronBinaryPath(process.env, process.platform, installedElectron, join);
  return binary && existsSync(binary) ? binary : null;
}

/** Runs electron's own install script (it downloads the binary). Returns why it failed, or null. */
function fetchElectron(): string | null {
  if (!existsSync(join(ELECTRON_DIR, 'install.js'))) return 'the electron package is not installed';
  console.error('Fetching the Electron binary (electron/install.js)…');
  const result = spawnSync(process.execPath, ['install.js'], {
    cwd: ELECTRON_DIR,
    encoding: 'utf8',
    timeout: 5 * 60_000,
  });
  if (result.status === 0 && electronBinary()) return null;
  // The first line that is not a stack frame says what went wrong (e.g. "TypeError: fetch failed").
  const lines = `${result.stderr ?? ''}\n${result.stdout ?? ''}`.split('\n').map((l) => l.trim());
  const message = lines.find((l) => l && !l.startsWith('at '));
  return message?.slice(0, 300) ?? (result.error ? result.error.message : `exit code ${result.status}`);
}

function noDisplay(): boolean {
  return process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
}

async function startBrowserMode(reason: string): Promise<void> {
  console.error(`Electron cannot start here: ${reason}.`);
  console.error('Starting browser mode instead; open the address below in a browser.');
  // The CLI (sharp, the services) loads only here, never before Electron is launched.
  const { main } = await import('../src/main/cli/index');
  process.exitCode = await main(['serve', ...process.argv.slice(2)]);
}

buildIfNeeded((line) => console.error(line));
let binary = electronBinary();
let reason: string | null = null;
if (!binary) {
  reason = fetchElectron();
  binary = electronBinary();
}
if (!binary) {
  await startBrowserMode(`the Electron binary could not be fetched (${reason ?? 'unknown reason'})`);
} else if (noDisplay()) {
  await startBrowserMode('there is no display (DISPLAY and WAYLAND_DISPLAY are unset)');
} else {
  const launch = electronLaunch(process.argv.slice(2), process.env);
  // stderr is passed through and its tail kept, to recognise a sandbox abort.
  const child = spawn(binary, launch.args, { stdio: ['inherit', 'inherit', 'pipe'], env: launch.env });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });
  child.on('exit', (code, signal) => {
    const end = electronExit(code, signal, stderrTail);
    if (end.message) console.error(end.message);
    process.exitCode = end.exitCode;
  });
}
