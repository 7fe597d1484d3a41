// Errors become sentences a person understands, with what to do next where we know it.
import { StudioError } from '#shared/rpc/errors';

const NEXT_STEP: Partial<Record<string, string>> = {
  ENGINE_CRASHED: 'Try again; the engine restarts by itself.',
  BACKEND_UNAVAILABLE: 'Choose another engine backend in Settings.',
  TRANSPORT_CLOSED: 'Restart the studio and reload this page.',
  OUT_OF_MEMORY: 'Try a smaller tile size in Settings.',
  FORBIDDEN_PATH: 'Open the folder that holds the file first.',
};

export function describeError(error: unknown): string {
  if (error instanceof StudioError) {
    const next = NEXT_STEP[error.code];
    return next ? `${error.message} ${next}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
