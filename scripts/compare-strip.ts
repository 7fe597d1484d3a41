// Before/after strips for the README: the same crop of several versions of a photo, side by side at 1:1 (no
// resampling), each captioned, so a reader sees what a stage did pixel for pixel.
//
//   npx tsx scripts/compare-strip.ts --out <png> [--crop x,y,w,h] "<caption>=<image>" "<caption>=<image>" ...
//
// Every image must have the first one's size (a restoration keeps it). Alpha is flattened on white.
import { parseArgs } from 'node:util';
import sharp, { type OverlayOptions } from 'sharp';

const CAPTION_HEIGHT = 26;
const GAP = 6;

const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' }, crop: { type: 'string' } } });
if (!values.out || positionals.length === 0) {
  console.error('Usage: npx tsx scripts/compare-strip.ts --out <png> [--crop x,y,w,h] "<caption>=<image>" ...');
  process.exit(2);
}
const panels = positionals.map((arg) => {
  const at = arg.lastIndexOf('=');
  if (at <= 0) throw new Error(`"${arg}" is not <caption>=<image>.`);
  return { caption: arg.slice(0, at), path: arg.slice(at + 1) };
});

const first = await sharp(panels[0]!.path).metadata();
const [x, y, w, h] = values.crop ? values.crop.split(',').map(Number) : [0, 0, first.width!, first.height!];
if (![x, y, w, h].every((v) => Number.isInteger(v) && v! >= 0) || x! + w! > first.width! || y! + h! > first.height!) {
  throw new Error(`--crop ${values.crop} does not fit the ${first.width}x${first.height} image.`);
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const layers: OverlayOptions[] = [];
for (const [i, panel] of panels.entries()) {
  const meta = await sharp(panel.path).metadata();
  if (meta.width !== first.width || meta.height !== first.height) {
    throw new Error(`${panel.path} is ${meta.width}x${meta.height}; the first image is ${first.width}x${first.height}.`);
  }
  const left = i * (w! + GAP);
  const crop = await sharp(panel.path).flatten({ background: '#ffffff' }).extract({ left: x!, top: y!, width: w!, height: h! }).png().toBuffer();
  const caption = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${CAPTION_HEIGHT}"><rect width="100%" height="100%" fill="#20242a"/>` +
      `<text x="8" y="18" font-family="DejaVu Sans, sans-serif" font-size="14" fill="#f2f2f2">${escape(panel.caption)}</text></svg>`,
  );
  layers.push({ input: caption, left, top: 0 }, { input: crop, left, top: CAPTION_HEIGHT });
}
const width = panels.length * w! + (panels.length - 1) * GAP;
await sharp({ create: { width, height: h! + CAPTION_HEIGHT, channels: 3, background: '#ffffff' } })
  .composite(layers)
  .png({ compressionLevel: 9 })
  .toFile(values.out);
console.log(`${values.out}: ${panels.length} panels of ${w}x${h} at 1:1 (crop ${x},${y} of ${first.width}x${first.height})`);
