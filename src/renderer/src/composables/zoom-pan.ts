// Zoom and pan shared by both sides of a comparison: one transform, applied to every pane, so the two views
// stay in sync. Scale 1 means "fit"; `pixelScale` is the scale at which one image pixel is one screen pixel.
import { computed, reactive } from 'vue';

export interface ZoomPanState {
  scale: number;
  x: number;
  y: number;
}

/** The pane and, inside it, the photo as drawn at fit (object-fit: contain, centred), in screen pixels. */
export interface PaneBounds {
  width: number;
  height: number;
  photoWidth: number;
  photoHeight: number;
}

export const MIN_SCALE = 0.1;
export const MAX_SCALE = 32;

/**
 * The translation range along one axis that keeps the photo where it belongs: a photo larger than the pane
 * covers it (no empty band at an edge), a smaller one stays wholly inside it.
 */
function clampAxis(offset: number, scale: number, pane: number, photo: number): number {
  const margin = (pane - photo) / 2; // the photo's offset inside its element at fit
  const a = -scale * margin;
  const b = pane - scale * (margin + photo);
  return Math.min(Math.max(a, b), Math.max(Math.min(a, b), offset));
}

export function useZoomPan(bounds: () => PaneBounds | null = () => null) {
  const state = reactive<ZoomPanState>({ scale: 1, x: 0, y: 0 });

  const transform = computed(() => `translate(${state.x}px, ${state.y}px) scale(${state.scale})`);

  function clamp(): void {
    const b = bounds();
    if (!b || state.scale === 1) return;
    state.x = clampAxis(state.x, state.scale, b.width, b.photoWidth);
    state.y = clampAxis(state.y, state.scale, b.height, b.photoHeight);
  }

  /** Zooms by `factor` keeping the point (px, py), relative to the pane's top-left, still. */
  function zoomAt(factor: number, px: number, py: number): void {
    const next = Math.min(MAX_SCALE, Math.max(MIN_SCALE, state.scale * factor));
    const k = next / state.scale;
    state.x = px - (px - state.x) * k;
    state.y = py - (py - state.y) * k;
    state.scale = next;
    if (Math.abs(next - 1) < 1e-6) reset();
    else clamp();
  }

  function panBy(dx: number, dy: number): void {
    if (state.scale === 1) return;
    state.x += dx;
    state.y += dy;
    clamp();
  }

  function reset(): void {
    state.scale = 1;
    state.x = 0;
    state.y = 0;
  }

  /** 1:1 pixels: `pixelScale` = natural width / displayed width at fit; centred on (px, py). */
  function actualPixels(pixelScale: number, px: number, py: number): void {
    reset();
    zoomAt(pixelScale, px, py);
  }

  return { state, transform, zoomAt, panBy, reset, actualPixels };
}
