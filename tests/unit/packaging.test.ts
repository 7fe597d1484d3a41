// The installer configuration: every path it names exists, every native or WebAssembly dependency is
// unpacked from the asar archive, icons exist at the sizes the platforms need, and the path helper finds the
// bundled resources in development and in an installed app.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { load } from 'js-yaml';
import sharp from 'sharp';
import { projectRoot, resourcesDir } from '../../src/main/paths';

interface BuilderConfig {
  appId: string;
  productName: string;
  directories: { output: string; buildResources: string };
  asarUnpack: string[];
  extraResources: { from: string; to: string }[];
  linux: { target: string[]; icon: string };
  win: { target: string[]; icon: string };
  nsis: { oneClick: boolean; allowToChangeInstallationDirectory: boolean };
  mac: { target: string[]; icon: string };
}

const config = load(readFileSync('electron-builder.yml', 'utf8')) as BuilderConfig;

/** electron-builder's glob subset used here: ** spans folders, * stays within one. */
function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\0').replace(/\*/g, '[^/]*').replace(/\0/g, '.*');
  return new RegExp(`^${escaped}$`);
}

function walk(dir: string, found: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const info = statSync(full);
    if (info.isDirectory()) walk(full, found);
    else found.push(full);
  }
  return found;
}

/** The packages the installed app ships: production dependencies, from the lockfile. */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([path, meta]) => path.startsWith('node_modules/') && !meta.dev)
    .map(([path]) => path)
    .filter((path) => existsSync(path));
}

test('the installer targets, app id and NSIS install-folder choice are configured', () => {
  assert.equal(config.productName, 'Restoration Studio');
  assert.match(config.appId, /^[a-z]+(\.[a-z0-9]+)+$/);
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(config.win.target, ['nsis']);
  assert.deepEqual(config.mac.target, ['dmg']);
  assert.equal(config.nsis.oneClick, false);
  assert.equal(config.nsis.allowToChangeInstallationDirectory, true);
});

test('every path the configuration names exists', () => {
  const paths = [
    config.directories.buildResources,
    ...config.extraResources.map((r) => r.from),
    config.linux.icon,
    config.win.icon,
    config.mac.icon,
  ];
  for (const path of paths) assert.ok(existsSync(path), `${path} is named in electron-builder.yml but missing`);
  assert.ok(config.extraResources.some((r) => r.from === 'resources/models' && r.to === 'models'), 'bundled models ship as extra resources');
});

test('every native module and WebAssembly binary of the shipped dependencies is unpacked from the asar', () => {
  const patterns = config.asarUnpack.map(globToRegExp);
  const binaries = productionPackages()
    .flatMap((pkg) => walk(pkg))
    .filter((file) => /\.(node|wasm|so(\.\d+)*|dylib|dll)$/.test(file))
    .map((file) => relative(projectRoot(), file));
  assert.ok(binaries.some((f) => f.endsWith('.wasm')), 'the wasm backend binaries were found');
  assert.ok(binaries.some((f) => f.endsWith('.node')), 'sharp native module was found');
  for (const file of binaries) assert.ok(patterns.some((p) => p.test(file)), `${file} must be unpacked (asarUnpack)`);
  // The optional GPU engine is not installed on every machine; where it is, it must be unpacked too.
  assert.ok(patterns.some((p) => p.test('node_modules/@tensorflow/tfjs-node-gpu/lib/napi-v8/tfjs_binding.node')));
});

test('icons exist at every size the platforms need', async () => {
  for (const size of [16, 24, 32, 48, 64, 128, 256, 512, 1024]) {
    const meta = await sharp(join('resources', 'icons', `${size}x${size}.png`)).metadata();
    assert.equal(meta.width, size);
    assert.equal(meta.height, size);
  }
  const main = await sharp(config.mac.icon).metadata();
  assert.ok((main.width ?? 0) >= 1024, 'macOS and Windows icons are made from a 1024 px PNG');
});

test('the path helper finds bundled resources in development and in an installed app', async () => {
  assert.equal(resourcesDir(), join(projectRoot(), 'resources'));
  assert.ok(existsSync(join(resourcesDir(), 'models')));
  const installed = await mkdtemp(join(tmpdir(), 'studio-installed-'));
  const proc = process as { resourcesPath?: string };
  try {
    await mkdir(join(installed, 'models'));
    proc.resourcesPath = installed;
    assert.equal(resourcesDir(), installed);
  } finally {
    delete proc.resourcesPath;
    await rm(installed, { recursive: true, force: true });
  }
});

// Issue 20: packaging defects found against electron-builder 26's sources.
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  author?: { name?: string; email?: string };
  homepage?: string;
  engines: { node: string };
  desktopName?: string;
};
const builder = load(readFileSync('electron-builder.yml', 'utf8')) as {
  npmRebuild?: boolean;
  fileAssociations: { ext: string[]; name: string; mimeType?: string }[];
  deb: { depends: string[] };
  nsis: { perMachine: boolean };
  linux: { executableName: string };
};

test('deb builds: package.json names an author with an email and a homepage (fpm requires both)', () => {
  assert.ok(pkg.author?.name && /@/.test(pkg.author.email ?? ''));
  assert.match(pkg.homepage ?? '', /^https:\/\//);
});

test('Linux file associations carry MIME types; Windows ones a specific ProgID and a per-machine install', () => {
  for (const assoc of builder.fileAssociations) assert.match(assoc.mimeType ?? '', /^image\//, assoc.name);
  for (const assoc of builder.fileAssociations) assert.notEqual(assoc.name, 'Photo');
  assert.equal(builder.nsis.perMachine, true);
});

test('deb depends keeps electron-builder defaults (gtk, xss, xdg-utils for Open logs, atspi, uuid, secret)', () => {
  for (const dep of ['libgtk-3-0', 'libnotify4', 'libnss3', 'libxss1', 'libxtst6', 'xdg-utils', 'libatspi2.0-0', 'libuuid1', 'libsecret-1-0'])
    assert.ok(builder.deb.depends.includes(dep), dep);
});

test('no npm rebuild of the optional tfjs-node-gpu addon; desktopName for the Linux progress bar; Node >= 22.12', () => {
  assert.equal(builder.npmRebuild, false);
  assert.equal(pkg.desktopName, `${builder.linux.executableName}.desktop`);
  assert.match(pkg.engines.node, /^>=22\.12/);
});
