// Renders resources/icon.svg into the PNG sizes the platforms need (committed; rerun after editing the SVG):
// resources/icon.png (1024, which electron-builder turns into .icns and .ico) and resources/icons/NxN.png
// (the Linux icon set).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

export const ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];

const svg = join('resources', 'icon.svg');
await mkdir(join('resources', 'icons'), { recursive: true });
for (const size of ICON_SIZES) {
  await sharp(svg, { density: Math.ceil((72 * size) / 64) })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toFile(join('resources', 'icons', `${size}x${size}.png`));
}
await sharp(svg, { density: 1152 }).resize(1024, 1024).png({ compressionLevel: 9 }).toFile(join('resources', 'icon.png'));
console.log(`Wrote resources/icon.png and ${ICON_SIZES.length} sizes in resources/icons/.`);
