// sharp loses libvips' error text when two decodes fail at once ("Unknown error"). A user checking a dataset
// or restoring a folder must still read why a file failed, whatever else is decoding at the same moment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeImage } from '../../../src/main/engine/data/image';
import { withSharpReason } from '../../../src/main/engine/data/sharp-errors';
import { decodePhoto } from '../../../src/main/engine/infer/photo';
import { randomPixels } from './fixtures';

async function truncatedJpeg(): Promise<Buffer> {
  const jpeg = await sharp(randomPixels(96, 80, 3), { raw: { width: 96, height: 80, channels: 3 } }).jpeg().toBuffer();
  return jpeg.subarray(0, Math.floor(jpeg.length / 2));
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the decode to fail');
}

for (const [name, decode] of [
  ['decodeImage (datasets, triage, evaluation)', decodeImage],
  ['decodePhoto (restore)', decodePhoto],
] as const) {
  test(`${name}: a truncated JPEG decoded beside other failing files always says why`, async () => {
    const truncated = await truncatedJpeg();
    const garbage = Buffer.from('this is not an image');
    const truncatedReasons: string[] = [];
    const garbageReasons: string[] = [];
    // Four at once, as many as libuv's default thread pool runs: without the retry about a third of the
    // truncated files came back as "Unknown error".
    for (let round = 0; round < 60; round++) {
      const [a, b, c, d] = await Promise.all([truncated, garbage, truncated, garbage].map((bytes) => reasonOf(decode(bytes))));
      truncatedReasons.push(a!, c!);
      garbageReasons.push(b!, d!);
    }
    for (const r of truncatedReasons) assert.match(r, /premature end/i);
    for (const r of garbageReasons) assert.match(r, /unsupported image format/i);
  });
}

test('withSharpReason re-runs only reason-less failures, and returns a result that comes on retry', async () => {
  let calls = 0;
  await assert.rejects(
    withSharpReason(async () => {
      calls++;
      throw new Error('VipsJpeg: premature end of JPEG image');
    }),
    /premature end/,
  );
  assert.equal(calls, 1, 'an informative error is thrown at once');

  calls = 0;
  const value = await withSharpReason(async () => {
    calls++;
    if (calls === 1) throw new Error('Unknown error');
    return 42;
  });
  assert.equal(value, 42);

  calls = 0;
  await assert.rejects(
    withSharpReason(async () => {
      calls++;
      throw new Error('Unknown error');
    }),
    /Unknown error/,
  );
  assert.equal(calls, 4, 'one try and three retries, then the last error');
});
