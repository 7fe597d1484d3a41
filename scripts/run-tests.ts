// Runs the test suite with Node's own test runner (its closing summary is what CI reads).
// Usage: tsx scripts/run-tests.ts [unit|e2e] [filter-substring]
// Node 20 has no glob support in `--test`, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { NATIVE } from '../tests/helpers/native';

/** The test folders that run a second time on native TensorFlow where it is built. */
const NATIVE_PASS_DIRS = ['train', 'restore', 'methods', 'infer', 'models', 'keras', 'pytorch'];

function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) found.push(...findTests(full));
    else if (name.endsWith('.test.ts')) found.push(full);
  }
  return found;
}

const [suite, filter] = process.argv.slice(2);
const suites = suite === 'unit' || suite === 'e2e' ? [suite] : ['unit', 'e2e'];
const files = suites
  .flatMap((s) => findTests(join('tests', s)))
  .filter((f) => !filter || f.includes(filter))
  .map((f) => relative(process.cwd(), f));
if (files.length === 0) {
  console.error('No test files matched.');
  process.exit(1);
}
// Tests make their own models: the shipped ones (resources/models) are hidden behind an empty folder, except
// for the test that checks them by path (tests/unit/bundled-models.test.ts).
const noBundledModels = mkdtempSync(join(tmpdir(), 'studio-no-bundled-'));
function runPass(list: string[], env: NodeJS.ProcessEnv = {}): number {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...list], {
    stdio: 'inherit',
    env: { STUDIO_BUNDLED_MODELS: noBundledModels, ...process.env, ...env, STUDIO_TEST: '1' },
  });
  return result.status ?? 1;
}

// Pass 1: everything. The engine, training, restore and model tests run on cpu (the reference) and wasm
// (the kernel and gradient tests); what starts an engine on its own (CLI, browser mode) takes the best
// backend here, native TensorFlow where it is built.
let status = runPass(files);
// Pass 2: where the native engine is built, the engine, training, restore and model tests again on it.
const nativeFiles = files.filter((f) => NATIVE_PASS_DIRS.some((dir) => f.startsWith(join('tests', 'unit', dir))));
if (nativeFiles.length > 0 && !process.env.STUDIO_TEST_BACKEND) {
  if (NATIVE) {
    console.log(`\nNative pass: ${nativeFiles.length} test files again with STUDIO_TEST_BACKEND=tensorflow\n`);
    status = runPass(nativeFiles, { STUDIO_TEST_BACKEND: 'tensorflow' }) || status;
  } else {
    console.log('\nNative pass skipped: the native engine is not built here (npm run engine:native builds it against a Python TensorFlow).');
  }
}
rmSync(noBundledModels, { recursive: true, force: true });
process.exit(status);
