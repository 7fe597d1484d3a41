import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetItem } from '../../../src/main/engine/data/dataset';
import { splitDataset } from '../../../src/main/engine/data/split';
import { Rng, deriveSeed, hashSeed } from '../../../src/main/engine/data/rng';

function items(n: number, prefix = 'img'): DatasetItem[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}.png`, clean: `/x/${prefix}${i}.png` }));
}

const ids = (list: DatasetItem[]): string[] => list.map((i) => i.id);

test('the split is deterministic for a seed and file list', () => {
  const all = items(200);
  const a = splitDataset(all, { seed: 7, valFraction: 0.2 });
  const b = splitDataset(all.slice().reverse(), { seed: 7, valFraction: 0.2 });
  assert.deepEqual(ids(a.val).sort(), ids(b.val).sort());
  assert.equal(a.train.length + a.val.length, 200);
  assert.ok(a.val.length > 20 && a.val.length < 60, `about 20% in validation, got ${a.val.length}`);
  const other = splitDataset(all, { seed: 8, valFraction: 0.2 });
  assert.notDeepEqual(ids(other.val), ids(a.val));
  for (const v of a.val) assert.ok(!a.train.includes(v));
});

test('adding files never moves existing files between train and validation', () => {
  const before = splitDataset(items(100), { seed: 3, valFraction: 0.15 });
  const after = splitDataset([...items(100), ...items(50, 'new')], { seed: 3, valFraction: 0.15 });
  const valAfter = new Set(ids(after.val));
  for (const v of before.val) assert.ok(valAfter.has(v.id), `${v.id} stays in validation`);
  for (const t of before.train) assert.ok(!valAfter.has(t.id), `${t.id} stays in training`);
});

test('small datasets still get one validation item and keep one training item', () => {
  const two = splitDataset(items(2), { seed: 0, valFraction: 0.01 });
  assert.equal(two.val.length, 1);
  assert.equal(two.train.length, 1);
  const one = splitDataset(items(1), { seed: 0, valFraction: 0.5 });
  assert.equal(one.train.length, 1);
  const none = splitDataset(items(10), { seed: 0, valFraction: 0 });
  assert.equal(none.val.length, 0);
});

test('the PRNG is reproducible and roughly uniform / normal', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  for (let i = 0; i < 100; i++) assert.equal(a.next(), b.next());
  assert.notEqual(new Rng(1).next(), new Rng(2).next());
  const r = new Rng(5);
  let sum = 0;
  let sq = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const v = r.normal();
    sum += v;
    sq += v * v;
  }
  assert.ok(Math.abs(sum / n) < 0.01);
  assert.ok(Math.abs(Math.sqrt(sq / n) - 1) < 0.01);
  assert.equal(hashSeed('a', 1), hashSeed('a', 1));
  assert.notEqual(deriveSeed(1, 'x'), deriveSeed(1, 'y'));
  assert.deepEqual(new Rng(9).shuffle([1, 2, 3, 4, 5]), new Rng(9).shuffle([1, 2, 3, 4, 5]));
});
