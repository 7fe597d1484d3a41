// Model files dropped on the Models view (.zip, .h5, .keras, .pth, .pt, .safetensors): in Electron each
// File's path (webUtils.getPathForFile) is imported where it lies, like Import… does. A browser page has no
// paths, and the studio's upload endpoint takes photos only, so there the view says to use Import….
import { ref } from 'vue';
import { connection } from '../api';
import { electronBridge } from '../api/transports';
import { useDragState } from './drag-state';

/** What the Models view's import accepts (the file picker and drops). */
export const MODEL_FILE_EXTENSIONS = ['.zip', '.h5', '.hdf5', '.keras', '.pth', '.pt', '.safetensors', 'model.json'];

function accepted(name: string): boolean {
  const lower = name.toLowerCase();
  return MODEL_FILE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

export function useDropModelFiles(importFrom: (path: string) => Promise<void>) {
  const { dragging, dragenter, dragover, dragleave, take } = useDragState();
  /** Why the last drop imported nothing (a sentence naming the file). */
  const error = ref<string | null>(null);

  async function drop(event: DragEvent): Promise<void> {
    if (!take(event)) return;
    error.value = null;
    const files = Array.from(event.dataTransfer!.files);
    if (files.length === 0) return;
    const bridge = electronBridge();
    if (connection.mode !== 'electron' || !bridge?.getPathForFile) {
      error.value = `${files[0]!.name} can't be dropped in the browser: use Import… to pick it on the studio's computer.`;
      return;
    }
    const refused = files.filter((f) => !accepted(f.name));
    if (refused.length) {
      error.value = `${refused.map((f) => f.name).join(', ')}: not a model file (${MODEL_FILE_EXTENSIONS.join(', ')}).`;
    }
    // One at a time: each import loads and re-saves a whole model.
    for (const file of files.filter((f) => accepted(f.name))) {
      const path = bridge.getPathForFile(file);
      if (path) await importFrom(path);
      else error.value = `${file.name} is not a file on this computer; drop it from your file manager.`;
    }
  }

  return { dragging, error, handlers: { dragenter, dragover, dragleave, drop } };
}
