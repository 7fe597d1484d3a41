// Leaf helper: whether a path exists. Imports nothing of ours, so every layer may use it.
import { stat } from 'node:fs/promises';

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
