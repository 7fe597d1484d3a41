// The error envelope: every failure that crosses a process or network boundary carries a stable `code`
// (for programs and tests) and a `message` a person understands (for the UI and the CLI).

export const ERROR_CODES = [
  'BAD_INPUT', // input failed its schema; details.issues names the fields
  'UNKNOWN_METHOD',
  'UNKNOWN_EVENT',
  'CANCELLED',
  'INTERNAL',
  'TRANSPORT_CLOSED',
  'UNAUTHORIZED',
  'ENGINE_CRASHED',
  'ENGINE_UNAVAILABLE',
  'BACKEND_UNAVAILABLE',
  'OUT_OF_MEMORY',
  'NOT_FOUND',
  'FORBIDDEN_PATH',
  'IMAGE_UNREADABLE',
  'DATASET_EMPTY',
  'DATASET_UNPAIRED',
  'MODEL_INVALID',
  'MODEL_NOT_FOUND',
  'MODEL_READ_ONLY', // a bundled model: it can be used and exported, not renamed or deleted
  'OUTPUT_UNWRITABLE',
  'JOB_NOT_FOUND',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorEnvelope {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export class StudioError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'StudioError';
    this.code = code;
    this.details = details;
  }

  toEnvelope(): ErrorEnvelope {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  static fromEnvelope(envelope: ErrorEnvelope): StudioError {
    return new StudioError(envelope.code, envelope.message, envelope.details);
  }
}

/** Turns anything thrown into an envelope; unknown errors become INTERNAL with their message kept. */
export function toErrorEnvelope(error: unknown): ErrorEnvelope {
  if (error instanceof StudioError) return error.toEnvelope();
  if (isAbortError(error)) return { code: 'CANCELLED', message: 'The operation was cancelled.' };
  const message = error instanceof Error ? error.message : String(error);
  if (/\bout of memory\b|\bOOM\b|allocation failed/i.test(message)) {
    return { code: 'OUT_OF_MEMORY', message: `Ran out of memory: ${message}` };
  }
  return { code: 'INTERNAL', message: message || 'Unexpected error.' };
}

export function isAbortError(error: unknown): boolean {
  return (
    (error instanceof StudioError && error.code === 'CANCELLED') ||
    (typeof error === 'object' && error !== null && (error as { name?: string }).name === 'AbortError')
  );
}

/** Throws CANCELLED if the signal has fired; long loops call this between steps. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StudioError('CANCELLED', 'The operation was cancelled.');
}
