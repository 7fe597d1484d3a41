// One list of degradation presets for the CLI's help and the train wizard's picker: every choice the wizard
// offers is a name the engine turns into a recipe, and every built-in name in the list is one it knows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRESET_CHOICES, PRESETS } from '#shared/presets';
import { presetRecipe } from '../../../src/main/engine/data/synth/presets';

test('the wizard\'s choices (stores/train.ts PRESETS) are the shared ones, and the engine makes a recipe of each', () => {
  assert.deepEqual(PRESET_CHOICES.map((c) => c.id), ['gaussian-blind', 'gaussian:15', 'gaussian:25', 'gaussian:50', 'jpeg-blind', 'jpeg:20', 'old-photo', 'old-photo-restore']);
  for (const choice of PRESET_CHOICES) assert.ok(presetRecipe(choice.id), choice.id);
});

test('every preset the CLI lists is one the engine knows', () => {
  for (const { name } of PRESETS) {
    if (name.endsWith('.json')) continue;
    const example = name.replace(/<[a-z]+>/, '2');
    assert.doesNotThrow(() => presetRecipe(example), name);
  }
  assert.throws(() => presetRecipe('no-such-preset'), /Unknown preset "no-such-preset". Presets: gaussian-blind, gaussian:<sigma>/);
});
