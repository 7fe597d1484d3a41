// The drag state behind a drop overlay: a counter of dragenter/dragleave pairs, so moving over child elements
// never flickers the overlay. Shared by the photo drops (drop-files.ts) and the model drops (drop-model-files.ts).
import { ref } from 'vue';

/** True when the drag carries files (not text or a link). */
export function carriesFiles(event: DragEvent): boolean {
  return !!event.dataTransfer && Array.from(event.dataTransfer.types).includes('Files');
}

/**
 * `dragging` is true while files are over the element; `accepting()` says whether a drop would be taken now
 * (the cursor shows 'copy' or 'none'). `take(event)` ends the drag for a drop and says whether it carries files.
 */
export function useDragState(accepting: () => boolean = () => true) {
  const dragging = ref(false);
  let depth = 0;

  function reset(): void {
    depth = 0;
    dragging.value = false;
  }
  function dragenter(event: DragEvent): void {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth++;
    dragging.value = true;
  }
  function dragover(event: DragEvent): void {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer!.dropEffect = accepting() ? 'copy' : 'none';
  }
  function dragleave(event: DragEvent): void {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) dragging.value = false;
  }
  /** For a drop handler: false when the drop carries no files (leave it alone); else ends the drag. */
  function take(event: DragEvent): boolean {
    if (!carriesFiles(event)) return false;
    event.preventDefault();
    event.stopPropagation();
    reset();
    return true;
  }
  return { dragging, dragenter, dragover, dragleave, take, reset };
}
