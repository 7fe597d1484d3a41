// Runs the test suite with Node's own test runner (its closing summary is what CI reads).
// Usage: tsx scripts/run-tests.ts [unit|e2e] [filter-substring]
// Node 20 has no glob support in `--test`, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

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
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { STUDIO_BUNDLED_MODELS: noBundledModels, ...process.env, STUDIO_TEST: '1' } },
);
rmSync(noBundledModels, { recursive: true, force: true });
process.exit(result.status ?? 1);
