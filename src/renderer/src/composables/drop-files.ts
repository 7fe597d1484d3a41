// Photos dropped on a view: the drag state for the overlay (a counter of dragenter/dragleave pairs, so moving
// over child elements never flickers it), and the import into a fresh <dataDir>/dropped/<stamp> folder:
// - Electron: the preload gives each File's path (webUtils.getPathForFile); files.importDropped copies the
//   photos (or returns a single dropped folder as is).
// - Browser mode: a page has no paths, so files.newDropFolder checks the names and creates the folder, then
//   each photo is POSTed to /upload (connection.uploadUrl). Folders cannot be read in a browser.
// The resulting folder is handed to `open` (the Restore view opens it like any folder).
import { onBeforeUnmount, onMounted, ref } from 'vue';
import type { DropRejection } from '#shared/contract';
import { plural } from '#shared/words';
import { api, connection } from '../api';
import { electronBridge } from '../api/transports';
import { describeError } from './errors';
import { carriesFiles, useDragState } from './drag-state';

interface DroppedFile {
  file: File;
  /** A folder (known in browsers from its entry; in Electron the main process finds out). */
  folder: boolean;
}

const FOLDERS_IN_BROWSER = "Folders can't be dropped in the browser; use Open folder…";

/** The dropped files, read while the drop event runs (the DataTransfer is emptied afterwards). */
function droppedFiles(data: DataTransfer): DroppedFile[] {
  const items = Array.from(data.items ?? []).filter((item) => item.kind === 'file');
  if (items.length === 0) return Array.from(data.files).map((file) => ({ file, folder: false }));
  const found: DroppedFile[] = [];
  for (const item of items) {
    const file = item.getAsFile();
    if (file) found.push({ file, folder: item.webkitGetAsEntry?.()?.isDirectory ?? false });
  }
  return found;
}

export function useDropFiles(open: (dir: string) => Promise<void> | void) {
  /** "Copying 3 of 12…" while a drop is imported. */
  const progress = ref<string | null>(null);
  /** What the last drop did ("3 photos copied to …"). */
  const notice = ref<string | null>(null);
  /** The files the last drop left out, each with a sentence naming it and why. */
  const rejected = ref<DropRejection[]>([]);
  /** Why the last drop failed as a whole. */
  const error = ref<string | null>(null);
  const busy = ref(false);
  /** Files are being dragged over the view: show the overlay (no drops while one is imported). */
  const { dragging, dragenter, dragover, dragleave, take, reset } = useDragState(() => !busy.value);

  function drop(event: DragEvent): void {
    if (!take(event)) return;
    const files = droppedFiles(event.dataTransfer!);
    if (files.length) void importFiles(files);
  }

  // Outside the view a dropped file must not replace the app (the browser would open it).
  function guardWindow(event: DragEvent): void {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    if (event.type === 'dragover') event.dataTransfer!.dropEffect = 'none';
    if (event.type === 'drop') reset();
  }
  onMounted(() => {
    window.addEventListener('dragover', guardWindow);
    window.addEventListener('drop', guardWindow);
  });
  onBeforeUnmount(() => {
    window.removeEventListener('dragover', guardWindow);
    window.removeEventListener('drop', guardWindow);
  });

  async function importFiles(files: DroppedFile[]): Promise<void> {
    if (busy.value) {
      error.value = 'Photos are still being copied; drop more when they are done.';
      return;
    }
    busy.value = true;
    notice.value = null;
    rejected.value = [];
    error.value = null;
    try {
      const result = connection.mode === 'electron' ? await viaPaths(files) : await viaUpload(files);
      rejected.value = result.rejected;
      if (result.dir) {
        if (result.copied > 0) notice.value = `${plural(result.copied, 'photo')} copied to ${result.dir}.`;
        progress.value = null;
        await open(result.dir);
      }
    } catch (e) {
      error.value = describeError(e);
    } finally {
      progress.value = null;
      busy.value = false;
    }
  }

  interface Outcome {
    dir: string | null;
    copied: number;
    rejected: DropRejection[];
  }

  async function viaPaths(files: DroppedFile[]): Promise<Outcome> {
    const bridge = electronBridge();
    if (!bridge?.getPathForFile) throw new Error('This window cannot read dropped files; use Open folder… instead.');
    const rejected: DropRejection[] = [];
    const paths: string[] = [];
    for (const { file } of files) {
      const path = bridge.getPathForFile(file);
      if (path) paths.push(path);
      else rejected.push({ file: file.name, reason: `${file.name} is not a file on this computer; drop it from your file manager.` });
    }
    if (paths.length === 0) return { dir: null, copied: 0, rejected };
    progress.value = `Copying ${plural(paths.length, 'file')}…`;
    const result = await api.call('files.importDropped', { paths });
    return { dir: result.dir, copied: result.imported.length, rejected: [...rejected, ...result.rejected] };
  }

  async function viaUpload(files: DroppedFile[]): Promise<Outcome> {
    const rejected: DropRejection[] = files
      .filter((f) => f.folder)
      .map(({ file }) => ({ file: file.name, reason: `${file.name} is a folder. ${FOLDERS_IN_BROWSER}` }));
    const photos = files.filter((f) => !f.folder).map((f) => f.file);
    if (photos.length === 0) return { dir: null, copied: 0, rejected };
    const folder = await api.call('files.newDropFolder', { names: photos.map((f) => f.name) });
    rejected.push(...folder.rejected);
    if (!folder.dir || !folder.batch) return { dir: null, copied: 0, rejected };
    const refused = new Set(folder.rejected.map((r) => r.file));
    const uploads = photos.filter((f) => !refused.has(f.name));
    let copied = 0;
    for (const [i, file] of uploads.entries()) {
      progress.value = `Copying ${i + 1} of ${uploads.length}…`;
      try {
        const response = await fetch(connection.uploadUrl(folder.batch, file.name)!, {
          method: 'POST',
          headers: { 'Content-Type': 'application/octet-stream' },
          body: file,
        });
        if (response.ok) copied++;
        else {
          const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
          rejected.push({ file: file.name, reason: body?.error?.message ?? `${file.name} could not be copied (HTTP ${response.status}).` });
        }
      } catch (e) {
        rejected.push({ file: file.name, reason: `${file.name} could not be copied (${describeError(e)}).` });
      }
    }
    return { dir: copied > 0 ? folder.dir : null, copied, rejected };
  }

  return { dragging, progress, notice, rejected, error, busy, handlers: { dragenter, dragover, dragleave, drop } };
}
