// The train wizard's settings, checked as they are typed: one sentence per field that is not right, in the
// wizard's words (the limits are those of TrainParamsSchema, so Start never meets a schema error).
import { computed } from 'vue';
import type { TrainSettings } from '../stores/train';

type Field = 'name' | 'epochs' | 'stepsPerEpoch' | 'batchSize' | 'patch' | 'lr' | 'warmup' | 'patience';

/** A whole number in [min, max], or why not. `what` names it ("the number of epochs"). */
function wholeNumber(value: unknown, what: string, min: number, max: number): string | null {
  if (value === '' || value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return `Enter ${what}.`;
  if (typeof value !== 'number') return `${capitalise(what)} must be a number.`;
  if (!Number.isInteger(value)) return `${capitalise(what)} must be a whole number.`;
  if (value < min) return `${capitalise(what)} must be at least ${min}.`;
  if (value > max) return `${capitalise(what)} can be at most ${max.toLocaleString('en')}.`;
  return null;
}

function capitalise(text: string): string {
  const bare = text.replace(/^the /, '');
  return bare.charAt(0).toUpperCase() + bare.slice(1);
}

export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

export function useTrainValidation(settings: TrainSettings) {
  const errors = computed<Partial<Record<Field, string>>>(() => {
    const found: Partial<Record<Field, string>> = {};
    const set = (field: Field, message: string | null): void => {
      if (message) found[field] = message;
    };
    const name = settings.name;
    if (!name) set('name', 'Give the model a name.');
    else if (!NAME_PATTERN.test(name)) {
      set('name', 'Use lower-case letters, digits, “-” and “_” only (no spaces), starting with a letter or a digit.');
    } else if (name.length > 100) set('name', 'Keep the name under 100 characters.');
    set('epochs', wholeNumber(settings.epochs, 'the number of epochs', 1, 100_000));
    set('stepsPerEpoch', wholeNumber(settings.stepsPerEpoch, 'the steps per epoch', 1, 1_000_000));
    set('batchSize', wholeNumber(settings.batchSize, 'a batch size', 1, 1024));
    set('patch', wholeNumber(settings.patch, 'a patch size', 8, 1024));
    const lr = settings.lr as unknown;
    if (lr === '' || lr === null || lr === undefined) set('lr', 'Enter a learning rate.');
    else if (typeof lr !== 'number' || Number.isNaN(lr)) set('lr', 'The learning rate must be a number.');
    else if (lr <= 0) set('lr', 'The learning rate must be more than 0 (e.g. 0.001).');
    else if (lr > 1) set('lr', 'A learning rate above 1 makes training diverge; try 0.001.');
    set('warmup', wholeNumber(settings.warmup, 'the warm-up steps (0 for none)', 0, 1_000_000));
    if (settings.earlyStopping) set('patience', wholeNumber(settings.patience, 'the patience in epochs', 1, 100_000));
    return found;
  });
  const valid = computed(() => Object.keys(errors.value).length === 0);

  /** A warm-up longer than the whole run never reaches the chosen rate: worth a word, not a refusal. */
  const warmupNote = computed(() => {
    const total = settings.epochs * settings.stepsPerEpoch;
    if (errors.value.warmup || errors.value.epochs || errors.value.stepsPerEpoch || settings.warmup <= total) return null;
    return `The warm-up (${settings.warmup} steps) is longer than the whole run (${total} steps): the learning rate never reaches ${settings.lr}.`;
  });
  return { errors, valid, warmupNote };
}
