// `npm run test:desktop`: a smoke test of the real desktop app, wherever the Electron binary exists. With
// Playwright's Electron support on the built app: the window opens, the engine answers over IPC, one
// generated photo is restored, a photo dropped outside Restore does not break the protocol link, close.
// Without the binary it prints one line saying why it was skipped and exits 0. Not part of `npm test`.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { electronBinaryPath } from '../src/main/desktop/electron-launch';

function installedElectron(): string | null {
  const pathFile = join('node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return null;
  return join('node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
}

const binary = electronBinaryPath(process.env, process.platform, installedElectron, join);
const noDisplay = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
if (!binary || !existsSync(binary)) {
  console.log(`test:desktop skipped: the Electron binary is not installed (${binary ?? 'node_modules/electron/path.txt missing'}); run \`npm start\` once on a machine with network access to fetch it.`);
} else if (noDisplay) {
  console.log('test:desktop skipped: there is no display (DISPLAY and WAYLAND_DISPLAY are unset); run it under xvfb-run.');
} else {
  process.exitCode = await smoke(binary);
}

async function smoke(executablePath: string): Promise<number> {
  const { buildIfNeeded } = await import('./build-if-needed');
  const { _electron } = await import('playwright-core');
  const sharp = (await import('sharp')).default;
  buildIfNeeded((line) => console.error(line));
  const home = await mkdtemp(join(tmpdir(), 'studio-desktop-'));
  const photos = join(home, 'photos');
  await mkdir(photos);
  const raw = Buffer.alloc(96 * 64 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 251;
  await sharp(raw, { raw: { width: 96, height: 64, channels: 3 } }).png().toFile(join(photos, 'one.png'));
  const env: Record<string, string> = { ...(process.env as Record<string, string>), STUDIO_HOME: home };
  delete env.ELECTRON_RUN_AS_NODE;
  const app = await _electron.launch({ executablePath, args: ['.'], env, timeout: 60_000 });
  const step = (s: string): void => console.log(`test:desktop: ${s}`);
  try {
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    step('window opened');
    // One request over the preload bridge, as the renderer makes it.
    const call = (method: string, input: unknown): Promise<unknown> =>
      page.evaluate(
        ({ method, input }) =>
          new Promise((resolve, reject) => {
            const bridge = (window as unknown as Record<string, { send: (m: unknown) => void; onMessage: (l: (m: unknown) => void) => () => void }>).studioBridge!;
            const id = 900_000 + Math.floor(Math.random() * 90_000);
            const stop = bridge.onMessage((m) => {
              const msg = m as { t: string; id: number; ok?: boolean; data?: unknown; error?: { message: string } };
              if (msg.t !== 'res' || msg.id !== id) return;
              stop();
              if (msg.ok) resolve(msg.data);
              else reject(new Error(msg.error?.message));
            });
            bridge.send({ t: 'req', id, method, input });
          }),
        { method, input },
      );
    const info = (await call('engine.info', {})) as { backend: string };
    step(`engine answers over IPC (backend ${info.backend})`);
    const job = (await call('restore.start', { input: photos })) as { id: string };
    for (let i = 0; ; i++) {
      const jobs = (await call('jobs.list', {})) as { id: string; endedAt?: unknown; state?: string }[];
      const mine = jobs.find((j) => j.id === job.id);
      if (mine?.endedAt) break;
      if (i > 600) throw new Error('the restore did not finish in 5 minutes');
      await new Promise((r) => setTimeout(r, 500));
    }
    const outputs = await readdir(`${photos}-restored`);
    if (!outputs.some((f) => f.startsWith('one'))) throw new Error(`no restored photo in ${photos}-restored`);
    step('one photo restored');
    // Drop a file on a view that does not take drops: the page must not navigate, calls must still work.
    await page.evaluate(() => (location.hash = '#/settings'));
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.items.add(new File(['x'], 'dropped.png', { type: 'image/png' }));
      document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await new Promise((r) => setTimeout(r, 1000));
    await call('engine.info', {});
    step('a drop outside Restore left the protocol link working');
    await app.close();
    step('passed');
    return 0;
  } catch (error) {
    console.error(`test:desktop failed: ${(error as Error).message}`);
    await app.close().catch(() => {});
    return 1;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
