// Native TensorFlow engine where @tensorflow/tfjs-node-gpu cannot download libtensorflow.
//
//   npm run engine:native [-- --python PATH] [--force]
//
// tfjs-node-gpu's install script downloads a prebuilt libtensorflow; where that fails (no internet, or a
// CUDA the prebuilt library was not made for), npm drops the optional package and the engine runs on wasm.
// Its N-API binding builds from the sources inside the npm package against any TensorFlow C library. A
// TensorFlow Python wheel carries one (libtensorflow_cc exports the TF_/TFE_ C API, the headers are under
// include/), so this script:
//   1. finds a Python whose `import tensorflow` works (--python, else python3, else python),
//   2. installs the locked tfjs-node-gpu package without its download script (npm --ignore-scripts),
//   3. links the wheel's libraries and headers into the package's deps/ folder, where binding.gyp and the
//      binding's rpath ($ORIGIN/../../deps/lib) look for them, so no LD_LIBRARY_PATH is needed,
//   4. patches the binding to pass list attributes (scripts/native-binding-patch.ts: the engine's fused
//      convolution needs them) and builds it with node-gyp (N-API 8: the same file loads in Node and Electron),
//   5. loads it in a fresh Node process and records what it built in deps/studio-native.json, which
//      `studio info` reads to say where the engine came from.
// Idempotent: when the binding loads and was built from the same TensorFlow, it says so and stops.
// GPU: `pip install tensorflow[and-cuda]` brings CUDA 12 libraries with the wheel; build against that Python.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { NATIVE_PACKAGE, NATIVE_RECORD, type NativeBuildRecord } from '../src/main/engine/native-record';
import { BINDING_PATCH, patchBinding } from './native-binding-patch';

const require = createRequire(import.meta.url);
const root = process.cwd();
const packageDir = join(root, 'node_modules', ...NATIVE_PACKAGE.split('/'));
const NAPI_VERSION = 8;

class Refusal extends Error {}

function say(line: string): void {
  console.log(`engine:native: ${line}`);
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; quiet?: boolean } = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd: options.cwd ?? root,
    env: options.env ?? process.env,
    encoding: 'utf8',
    stdio: options.quiet === false ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

interface PythonTensorflow {
  python: string;
  version: string;
  dir: string;
  gpus: number;
}

const PROBE = [
  'import json, os',
  'import tensorflow as tf',
  "print(json.dumps({'version': tf.__version__, 'dir': os.path.dirname(tf.__file__), 'gpus': len(tf.config.list_physical_devices('GPU'))}))",
].join('\n');

function probePython(python: string): PythonTensorflow | string {
  const result = run(python, ['-c', PROBE], { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
  if (result.error) return `${python} cannot be run (${(result.error as NodeJS.ErrnoException).code ?? result.error.message})`;
  if (result.status !== 0) {
    const last = result.stderr.trim().split('\n').pop() ?? '';
    return /No module named .?tensorflow/.test(last) ? `${python} has no TensorFlow (pip install tensorflow-cpu)` : `${python}: ${last}`;
  }
  const line = result.stdout.trim().split('\n').pop() ?? '';
  const found = JSON.parse(line) as Omit<PythonTensorflow, 'python'>;
  return { python, ...found };
}

function findTensorflow(explicit: string | undefined): PythonTensorflow {
  const candidates = explicit ? [explicit] : ['python3', 'python'];
  const reasons: string[] = [];
  for (const python of candidates) {
    const found = probePython(python);
    if (typeof found !== 'string') return found;
    reasons.push(found);
  }
  throw new Refusal(
    `no Python with TensorFlow was found: ${reasons.join('; ')}. Install one (pip install tensorflow-cpu, or ` +
      `tensorflow[and-cuda] for an NVIDIA GPU) and run again, or name it with --python PATH.`,
  );
}

/** The wheel's C library and headers for this platform, or a sentence for what is missing. */
function wheelLibraries(tf: PythonTensorflow): { cc: string; framework: string; include: string } {
  const mac = process.platform === 'darwin';
  const cc = join(tf.dir, mac ? 'libtensorflow_cc.2.dylib' : 'libtensorflow_cc.so.2');
  const framework = join(tf.dir, mac ? 'libtensorflow_framework.2.dylib' : 'libtensorflow_framework.so.2');
  const include = join(tf.dir, 'include');
  for (const [what, path] of [['C library', cc], ['framework library', framework], ['C API header', join(include, 'tensorflow', 'c', 'c_api.h')]]) {
    if (!existsSync(path!)) throw new Refusal(`TensorFlow ${tf.version} at ${tf.dir} has no ${what} (${path}); this wheel cannot host the engine.`);
  }
  return { cc, framework, include };
}

function checkPlatform(): void {
  if (process.platform === 'win32') {
    throw new Refusal('on Windows the TensorFlow wheel ships no C library to link; install @tensorflow/tfjs-node-gpu with its own download instead.');
  }
  if (process.platform !== 'linux' && process.platform !== 'darwin') throw new Refusal(`${process.platform} is not supported.`);
  if (process.arch !== 'x64' && process.arch !== 'arm64') throw new Refusal(`the ${process.arch} architecture is not supported (x64 or arm64).`);
}

function checkCompiler(): void {
  const cxx = process.env.CXX ?? 'c++';
  if (run(cxx, ['--version']).status !== 0) throw new Refusal(`no C++ compiler (${cxx}) was found; install one (Debian: apt-get install g++ make).`);
  if (run('make', ['--version']).status !== 0) throw new Refusal('make was not found; install it (Debian: apt-get install make).');
}

function nodeGyp(): string {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    throw new Refusal('node-gyp is missing from node_modules; run npm install first.');
  }
}

/** npm removes an optional package whose install script failed: put the locked one back, scripts off. */
function ensurePackage(): string {
  if (!existsSync(join(packageDir, 'binding.gyp'))) {
    say(`installing the locked ${NATIVE_PACKAGE} without its download script…`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const result = run(npm, ['install', '--no-save', '--ignore-scripts', '--include=optional', '--no-audit', '--no-fund'], { quiet: false });
    if (result.status !== 0 || !existsSync(join(packageDir, 'binding.gyp'))) {
      throw new Refusal(`npm could not install ${NATIVE_PACKAGE} (exit ${result.status ?? 'by signal'}); see npm's message above.`);
    }
  }
  return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
}

function bindingFile(): string {
  return join(packageDir, 'lib', `napi-v${NAPI_VERSION}`, 'tfjs_binding.node');
}

/** Loads the package in a fresh process (the way the engine will) and returns TensorFlow's own version. */
function loadsInNode(): { ok: true; tensorflow: string } | { ok: false; reason: string } {
  const script = [
    `const tf = require(${JSON.stringify(NATIVE_PACKAGE)});`,
    "const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync().join(','));",
    "if (sum !== '4,6') throw new Error('1+3, 2+4 gave ' + sum);",
    "process.stdout.write(JSON.stringify({ backend: tf.getBackend(), tensorflow: tf.backend().binding.TF_Version }));",
  ].join('\n');
  const result = run(process.execPath, ['-e', script], { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  if (result.status !== 0) return { ok: false, reason: result.stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ') };
  const out = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { backend?: string; tensorflow?: string };
  if (out.backend !== 'tensorflow') return { ok: false, reason: `the package loaded but the backend is ${out.backend}` };
  return { ok: true, tensorflow: out.tensorflow ?? 'unknown' };
}

function readRecord(): NativeBuildRecord | null {
  try {
    return JSON.parse(readFileSync(join(packageDir, NATIVE_RECORD), 'utf8')) as NativeBuildRecord;
  } catch {
    return null;
  }
}

function linkDeps(libs: { cc: string; framework: string; include: string }): void {
  const deps = join(packageDir, 'deps');
  rmSync(join(deps, 'lib'), { recursive: true, force: true });
  rmSync(join(deps, 'include'), { recursive: true, force: true });
  mkdirSync(join(deps, 'lib'), { recursive: true });
  symlinkSync(libs.include, join(deps, 'include'));
  const mac = process.platform === 'darwin';
  // binding.gyp links -ltensorflow -ltensorflow_framework (macOS: the .2.dylib names); the binary then
  // records the libraries' own sonames, so both spellings point at the wheel's files.
  const names: Array<[string, string]> = mac
    ? [['libtensorflow.2.dylib', libs.cc], ['libtensorflow_cc.2.dylib', libs.cc], ['libtensorflow_framework.2.dylib', libs.framework]]
    : [
        ['libtensorflow.so', libs.cc],
        ['libtensorflow_cc.so.2', libs.cc],
        ['libtensorflow_framework.so', libs.framework],
        ['libtensorflow_framework.so.2', libs.framework],
      ];
  for (const [name, target] of names) symlinkSync(target, join(deps, 'lib', name));
}

function build(): void {
  const gyp = nodeGyp();
  const nodedir = process.env.npm_config_nodedir ?? process.env.NODEDIR;
  const args = [
    gyp,
    'rebuild',
    `--module_name=tfjs_binding`,
    `--module_path=${dirname(bindingFile())}`,
    `--napi_build_version=${NAPI_VERSION}`,
    ...(nodedir ? [`--nodedir=${nodedir}`] : []),
  ];
  say(`building the binding with node-gyp (${nodedir ? `Node headers from ${nodedir}` : 'node-gyp finds the Node headers'})…`);
  const result = run(process.execPath, args, { cwd: packageDir, quiet: false });
  if (result.status !== 0) {
    throw new Refusal(
      `node-gyp failed (exit ${result.status ?? 'by signal'}); its message is above. Missing Node headers are fixed ` +
        `with apt-get install nodejs-dev / libnode-dev, or npm config set nodedir <folder with include/node>.`,
    );
  }
}

function main(): void {
  const { values } = parseArgs({ options: { python: { type: 'string' }, force: { type: 'boolean', default: false } } });
  checkPlatform();
  const tf = findTensorflow(values.python);
  say(`TensorFlow ${tf.version} (${tf.gpus > 0 ? `${tf.gpus} GPU${tf.gpus === 1 ? '' : 's'}` : 'CPU'}) from ${tf.python} at ${tf.dir}`);
  const libs = wheelLibraries(tf);
  const packageVersion = ensurePackage();
  const patch = patchBinding(packageDir);
  const patched = patch === 'patched' || patch === 'already';
  if (!patched) say(`the binding is built without the list-attribute patch (${patch}); the engine's fused convolution falls back to separate ops.`);
  const previous = readRecord();
  const samePatches = !patched || (previous?.patches ?? []).includes(BINDING_PATCH);
  if (!values.force && previous?.tensorflowDir === tf.dir && previous.tensorflow === tf.version && samePatches && existsSync(bindingFile())) {
    const loaded = loadsInNode();
    if (loaded.ok) {
      say(`already built against this TensorFlow and it loads (TensorFlow ${loaded.tensorflow}); nothing to do (--force rebuilds).`);
      return;
    }
    say(`the earlier build no longer loads (${loaded.reason}); rebuilding.`);
  }
  checkCompiler();
  linkDeps(libs);
  build();
  const loaded = loadsInNode();
  if (!loaded.ok) throw new Refusal(`the binding was built but does not load: ${loaded.reason}`);
  const record: NativeBuildRecord = {
    builtBy: 'npm run engine:native',
    builtAt: new Date().toISOString(),
    python: tf.python,
    tensorflow: tf.version,
    tensorflowDir: tf.dir,
    gpus: tf.gpus,
    package: `${NATIVE_PACKAGE}@${packageVersion}`,
    napi: NAPI_VERSION,
    patches: patched ? [BINDING_PATCH] : [],
  };
  writeFileSync(join(packageDir, NATIVE_RECORD), `${JSON.stringify(record, null, 2)}\n`);
  say(`done: ${bindingFile()} loads TensorFlow ${loaded.tensorflow}; the engine now picks the tensorflow backend (studio info shows it).`);
}

try {
  main();
} catch (error) {
  if (error instanceof Refusal) {
    console.error(`engine:native: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

