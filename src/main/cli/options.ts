// Flags several commands share.
import { resolvePreference } from '../engine/backend';

/** `--backend` wins over STUDIO_BACKEND, which wins over the saved setting. Validates the name. */
export function applyBackendFlag(value: string | undefined): void {
  if (value !== undefined) process.env.STUDIO_BACKEND = resolvePreference(value);
  else if (process.env.STUDIO_BACKEND) resolvePreference(process.env.STUDIO_BACKEND);
}
