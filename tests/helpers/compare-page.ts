// Compare opened on a pair of generated photos (before and after, each its own size), in Chromium against
// browser mode, with their folder opened so the image route serves them.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, writeTestImage } from './fixtures';
import { connectClient } from './studio-client';
import { openStudio, type StudioPage } from './studio-page';

export interface PhotoSpec {
  name: string;
  width: number;
  height: number;
}

/** Opens Compare on `before` and `after`; `cleanup` closes the page and removes the photos. */
export async function openCompareOf(before: PhotoSpec, after: PhotoSpec): Promise<{ studio: StudioPage; cleanup: () => Promise<void> }> {
  const tmp = await tempDir();
  process.env.STUDIO_HOME = join(tmp.dir, 'home');
  const photos = join(tmp.dir, 'photos');
  await mkdir(photos);
  await writeTestImage(join(photos, before.name), before.width, before.height, 1);
  await writeTestImage(join(photos, after.name), after.width, after.height, 2);
  const query = `before=${encodeURIComponent(join(photos, before.name))}&after=${encodeURIComponent(join(photos, after.name))}`;
  const studio = await openStudio({
    viewport: { width: 1200, height: 760 },
    hash: `/compare?${query}`,
    waitFor: 'compare-stage',
    prepare: async (mode) => {
      const client = await connectClient(mode.server);
      await client.call('folders.open', { dir: photos });
      client.close();
    },
  });
  return {
    studio,
    cleanup: async () => {
      await studio.close();
      await tmp.cleanup();
    },
  };
}
