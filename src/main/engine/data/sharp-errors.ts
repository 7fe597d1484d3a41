// sharp reads libvips' error text from one process-wide buffer and clears it afterwards. When two sharp
// operations fail at the same moment, one of them can read the buffer after the other cleared it and
// reports only "Unknown error" (measured: about a third of the time for a truncated JPEG decoded beside an
// unsupported file). A user needs the real reason ("premature end of JPEG image"), so a failure without one
// is re-run alone, one at a time across the process, where nothing else can clear the buffer first.

const UNKNOWN = /^\s*unknown error\s*$/i;
const RETRIES = 3;

let serial: Promise<unknown> = Promise.resolve();

/** Runs fn after every earlier call of this function has settled. */
function alone<T>(fn: () => Promise<T>): Promise<T> {
  const run = serial.then(fn, fn);
  serial = run.catch(() => undefined);
  return run;
}

function lostMessage(error: unknown): boolean {
  return error instanceof Error && UNKNOWN.test(error.message);
}

/**
 * Runs a sharp operation; when it fails with sharp's reason-less "Unknown error", re-runs it alone (up to
 * three times) to recover libvips' message. Throws the most informative error seen.
 */
export async function withSharpReason<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (first) {
    if (!lostMessage(first)) throw first;
    let last: unknown = first;
    for (let attempt = 0; attempt < RETRIES && lostMessage(last); attempt++) {
      try {
        return await alone(operation);
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }
}
