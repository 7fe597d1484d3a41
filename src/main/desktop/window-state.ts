// Window size and position, remembered between runs. A saved position that no longer lies on any display
// (a monitor was unplugged) is dropped so the window never opens off-screen.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../fs-atomic';

export const WindowStateSchema = z.object({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().min(400).max(20_000),
  height: z.number().int().min(300).max(20_000),
  maximized: z.boolean().default(false),
  fullScreen: z.boolean().default(false),
});
export type WindowState = z.infer<typeof WindowStateSchema>;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DEFAULT_WINDOW: WindowState = { width: 1280, height: 820, maximized: false, fullScreen: false };

/** Keeps the saved position only if at least 100x50 pixels of the window's top area lie on some display. */
export function fitToDisplays(state: WindowState, workAreas: Rect[]): WindowState {
  if (state.x === undefined || state.y === undefined) return state;
  const { x, y } = state;
  const visible = workAreas.some((a) => {
    const overlapW = Math.min(x + state.width, a.x + a.width) - Math.max(x, a.x);
    const overlapH = Math.min(y + 50, a.y + a.height) - Math.max(y, a.y);
    return overlapW >= 100 && overlapH >= 50;
  });
  if (visible) return state;
  const { x: _x, y: _y, ...rest } = state;
  return rest;
}

export class WindowStateStore {
  constructor(private readonly file: string) {}

  static inDataDir(dir: string): WindowStateStore {
    return new WindowStateStore(join(dir, 'window-state.json'));
  }

  async load(workAreas: Rect[]): Promise<WindowState> {
    try {
      const parsed = WindowStateSchema.safeParse(JSON.parse(await readFile(this.file, 'utf8')));
      return parsed.success ? fitToDisplays(parsed.data, workAreas) : DEFAULT_WINDOW;
    } catch {
      return DEFAULT_WINDOW;
    }
  }

  async save(state: WindowState): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(WindowStateSchema.parse(state)) + '\n');
  }
}
