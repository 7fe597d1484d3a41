// What every store does with a call that can fail: clear the error shown, run it, and on failure show the
// error as a sentence instead of letting it escape to a click handler (where nobody would see it).
import type { Ref } from 'vue';
import { describeError } from './errors';

/** A runner that puts the error of `work` in `error` (cleared first); resolves undefined when it failed. */
export function errorGuard(error: Ref<string | null>): <T>(work: () => Promise<T>) => Promise<T | undefined> {
  return async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    error.value = null;
    try {
      return await work();
    } catch (e) {
      error.value = describeError(e);
      return undefined;
    }
  };
}
