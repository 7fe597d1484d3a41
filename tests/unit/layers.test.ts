// The layering rules in eslint.config.js: the engine may not import services, the desktop shell, the server
// or the CLI; the services may not import the desktop shell. Checked on probe files, so a rule that stops
// matching (a renamed folder, a changed pattern) fails here rather than silently allowing the import.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const eslint = new ESLint();

async function restricted(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

test('the engine cannot import services, desktop, server or cli', async () => {
  for (const target of ['../services/files', '../../desktop/recent', '../server/http', '../../cli/index']) {
    const messages = await restricted('src/main/engine/infer/probe.ts', `import { x } from '${target}';\nexport const y = x;\n`);
    assert.equal(messages.length, 1, `${target}: ${messages.join('; ')}`);
    assert.match(messages[0]!, /engine is called through its contract/);
  }
  assert.deepEqual(await restricted('src/main/engine/infer/probe.ts', "import { x } from '../../fs-atomic';\nimport { y } from '#shared/rpc/server';\nexport const z = [x, y];\n"), []);
});

test('the services cannot import the desktop shell; the desktop shell can import the services', async () => {
  assert.equal((await restricted('src/main/services/probe.ts', "import { x } from '../desktop/commands';\nexport const y = x;\n")).length, 1);
  assert.deepEqual(await restricted('src/main/desktop/probe.ts', "import { x } from '../services/index';\nexport const y = x;\n"), []);
});
