// Command-line flags parsed into the shared zod schemas, so a flag accepts exactly what the engine and the UI
// accept (one limit, in one place: src/shared), and a refusal names the flag in words.
import type { z } from 'zod';
import { StudioError } from '#shared/rpc/errors';

/** A number flag's text as a number; text that is not a number stays text, so the schema refuses it. */
export function numberFlag(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) ? n : value;
}

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

interface NumberBounds {
  minValue?: number | null;
  maxValue?: number | null;
  isInt?: boolean;
  format?: string | null;
  def?: { innerType?: unknown };
}

/** The number schema under optional/default wrappers, to say its range in words. */
function numberBounds(field: unknown): NumberBounds {
  let s = field as NumberBounds | undefined;
  while (s?.def?.innerType) s = s.def.innerType as NumberBounds;
  return s ?? {};
}

function describeNumber(field: unknown): string {
  const b = numberBounds(field);
  const whole = b.isInt === true || b.format === 'safeint' || b.format === 'int32' || b.format === 'uint32';
  const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Math.abs(v) < Number.MAX_SAFE_INTEGER;
  const range =
    finite(b.minValue) && finite(b.maxValue)
      ? ` from ${b.minValue} to ${b.maxValue}`
      : finite(b.minValue)
        ? ` of at least ${b.minValue}`
        : finite(b.maxValue)
          ? ` of at most ${b.maxValue}`
          : '';
  return `${whole ? 'a whole number' : 'a number'}${range}`;
}

/**
 * Parses `input` (keys of the schema; undefined values left out) with `schema`. `flags` names the flag of a
 * key where it is not the key in kebab case (e.g. retryFailed is --retry-failed anyway; dir is a positional).
 */
export function parseFlags<S extends z.ZodObject>(schema: S, input: Record<string, unknown>, flags: Record<string, string> = {}): z.output<S> {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const parsed = schema.safeParse(defined);
  if (parsed.success) return parsed.data;
  const sentences = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    const flag = flags[key] ?? `--${kebab(key)}`;
    const got = defined[key];
    const shown = ` (got "${String(got)}")`;
    switch (issue.code) {
      case 'invalid_type':
      case 'too_small':
      case 'too_big':
        if (typeof got === 'number' || issue.code === 'invalid_type') {
          const field = (schema.shape as Record<string, unknown>)[key];
          if (issue.code !== 'invalid_type' || issue.expected === 'number' || issue.expected === 'int') return `${flag} needs ${describeNumber(field)}${shown}.`;
        }
        return `${flag}: ${issue.message}${shown}.`;
      case 'invalid_value':
        return `${flag} must be one of ${issue.values.map(String).join(', ')}${shown}.`;
      default:
        return `${flag}: ${issue.message}.`;
    }
  });
  throw new StudioError('BAD_INPUT', sentences.join(' '));
}
