// Restore's model picker groups restorers by what they restore, so scores of different tasks never sit side by
// side: the old-photo restorers (trained on the old-photo or old-photo-restore preset, or the default model
// itself) come first, the default first among them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupModels, modelOptionLabel } from '../../../src/renderer/src/composables/model-groups';
import { ModelListItemSchema, type ModelListItem } from '#shared/model-library';

function item(id: string, preset: string | null, psnr: number | null = null): ModelListItem {
  return ModelListItemSchema.parse({
    id,
    name: id,
    arch: 'unet',
    params: 1,
    path: `/models/${id}`,
    task: 'restore',
    source: null,
    createdAt: null,
    psnr,
    error: null,
    restores: preset === null ? null : { preset, description: '' },
  });
}

test('old-photo restorers of either preset share the first group, the default model first; other tasks keep their own', () => {
  const groups = groupModels([
    item('denoise', 'gaussian-blind', 29.2),
    item('mine', 'old-photo'),
    item('dejpeg', 'jpeg-blind'),
    item('old-photo', 'old-photo-restore'),
    item('custom', 'my-recipe.json'),
  ]);
  assert.deepEqual(
    groups.map((g) => [g.label, g.models.map((m) => m.id)]),
    [
      ['Old photos', ['old-photo', 'mine']],
      ['Noise', ['denoise']],
      ['JPEG artefacts', ['dejpeg']],
      ['Other damage', ['custom']],
    ],
  );
  assert.equal(modelOptionLabel(item('old-photo', 'old-photo-restore')), 'old-photo (default)');
  assert.equal(modelOptionLabel(item('denoise', 'gaussian-blind', 29.23)), 'denoise · 29.2 dB');
});
