// studio restore --stages and --strength: the stages named become --repair, --tone and --model (no model when
// it is left out); conflicts and unknown stages are refused in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_MODEL } from '#shared/restore';
import { StudioError } from '#shared/rpc/errors';
import { resolveStages } from '../../../src/main/cli/stages';

const refused = (pattern: RegExp) => (error: unknown) => error instanceof StudioError && error.code === 'BAD_INPUT' && pattern.test(error.message);

test('without --stages the flags stay as they are', () => {
  assert.deepEqual(resolveStages({ model: 'denoise', tone: '0.3' }), { model: 'denoise', repair: undefined, tone: '0.3' });
  assert.throws(() => resolveStages({ strength: '0.5' }), refused(/give --stages too/));
});

test('the stages named run at --strength unless they have a strength of their own; leaving out the model runs none', () => {
  assert.deepEqual(resolveStages({ stages: 'tone, repair,model', strength: '0.7', repair: '0.2' }), { model: undefined, repair: '0.2', tone: '0.7' });
  assert.deepEqual(resolveStages({ stages: 'repair' }), { model: NO_MODEL, repair: '0.5', tone: undefined });
  assert.deepEqual(resolveStages({ stages: 'MODEL', model: 'denoise' }), { model: 'denoise', repair: undefined, tone: undefined });
});

test('unknown stages, empty lists, stray strengths and impossible combinations are refused by name', () => {
  assert.throws(() => resolveStages({ stages: 'repair,denoise' }), refused(/unknown stage "denoise"; the stages are repair, model, tone/));
  assert.throws(() => resolveStages({ stages: ' , ' }), refused(/names no stage/));
  assert.throws(() => resolveStages({ stages: 'model', repair: '0.5' }), refused(/--repair is given but --stages leaves the repair stage out/));
  assert.throws(() => resolveStages({ stages: 'repair', model: 'denoise' }), refused(/--model is given/));
  assert.throws(() => resolveStages({ stages: 'tone', bestQuality: true }), refused(/--best-quality/));
  assert.throws(() => resolveStages({ stages: 'tone', strength: '2' }), refused(/--strength must be a number from 0 to 1 \(got "2"\)/));
});
