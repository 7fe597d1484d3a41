// Compare's sizing of a pair that differs in size (an upscaler's result against its original): both drawn in
// the larger one's frame, the smaller enlarged, the factor named, and shapes that cannot line up flagged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairSizing } from '../../../src/renderer/src/composables/compare-sizing';

test('the same size: no enlargement, no label', () => {
  assert.deepEqual(pairSizing({ width: 576, height: 720 }, { width: 576, height: 720 }), {
    frame: { width: 576, height: 720 },
    scale: 1,
    enlarged: null,
    label: null,
    aligned: true,
  });
});

test('a 4x result: the original is enlarged into the result frame and the pair is labelled', () => {
  const s = pairSizing({ width: 576, height: 720 }, { width: 2304, height: 2880 });
  assert.deepEqual(s, { frame: { width: 2304, height: 2880 }, scale: 4, enlarged: 'before', label: '4× upscale', aligned: true });
  assert.equal(pairSizing({ width: 576, height: 720 }, { width: 1152, height: 1440 })?.label, '2× upscale');
});

test('odd sizes: rounding of one input pixel still lines up; another shape does not', () => {
  // A 301x217 photo at 2x is 602x434; an output cropped by one pixel still counts as aligned.
  assert.equal(pairSizing({ width: 301, height: 217 }, { width: 602, height: 433 })?.aligned, true);
  assert.equal(pairSizing({ width: 300, height: 200 }, { width: 600, height: 600 })?.aligned, false);
  assert.equal(pairSizing({ width: 400, height: 300 }, { width: 600, height: 450 })?.label, '1.5× larger');
});

test('the left side larger (two results compared, or the sides swapped): the right one is enlarged', () => {
  const s = pairSizing({ width: 1152, height: 1440 }, { width: 576, height: 720 });
  assert.equal(s?.enlarged, 'after');
  assert.deepEqual(s?.frame, { width: 1152, height: 1440 });
  assert.equal(s?.label, '2× smaller');
});

test('unknown until both have loaded', () => {
  assert.equal(pairSizing(null, { width: 10, height: 10 }), null);
  assert.equal(pairSizing({ width: 0, height: 0 }, { width: 10, height: 10 }), null);
});
