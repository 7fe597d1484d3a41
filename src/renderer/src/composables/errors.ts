// Errors become sentences a person understands, with what to do next where we know it. The services word
// their messages for the command line too (flags, error codes, library names); what follows rewrites those
// parts in the GUI's own words, so no raw error reaches the page.
import { StudioError } from '#shared/rpc/errors';

const NEXT_STEP: Partial<Record<string, string>> = {
  ENGINE_CRASHED: 'Try again; the engine restarts by itself.',
  BACKEND_UNAVAILABLE: 'Choose another engine backend in Settings.',
  TRANSPORT_CLOSED: 'Restart the studio and reload this page.',
  OUT_OF_MEMORY: 'Try a smaller tile size in Settings.',
  FORBIDDEN_PATH: 'Open the folder that holds the file first.',
};

/** Command-line wording and system error codes, as the GUI says them. */
const REWRITES: [RegExp, string][] = [
  [/\s*\(?\b[Aa]dd --recursive to include subfolders\.?\)?/g, ' Tick “Include subfolders” to include them.'],
  [/not an image sharp can read/g, 'not a photo the studio can read'],
  [/\bsharp\b/g, 'the image reader'],
  [/,? continue its run with resume, or replace it with overwrite\./g, ', or choose to replace it.'],
  [/\s*\((ENOENT|no such file or directory)\)/g, ' (it does not exist)'],
  [/\s*\((EACCES|EPERM)\)/g, ' (the studio is not allowed to read it)'],
  [/\s*\((ENOTDIR)\)/g, ' (it is not a folder)'],
  [/\bENOENT: no such file or directory,? \w* ?'?([^']*)'?/g, '$1 does not exist'],
  [/\s{2,}/g, ' '],
];

export function humanize(message: string): string {
  return REWRITES.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), message).trim();
}

/** "batchSize" → "batch size", "hyper.depth" → "depth". */
function fieldName(path: string): string {
  const last = path.split('.').filter(Boolean).pop() ?? path;
  return last.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** zod's issue texts ("Too small: expected number to be >0") as a short clause. */
function issueClause(message: string): string {
  const min = /expected \w+ to (?:be|have) >(=?)\s*(-?[\d.]+)/.exec(message);
  if (/^Too small/.test(message) && min) return min[1] ? `must be at least ${min[2]}` : `must be more than ${min[2]}`;
  const max = /expected \w+ to (?:be|have) <(=?)\s*(-?[\d.]+)/.exec(message);
  if (/^Too big/.test(message) && max) return max[1] ? `must be at most ${max[2]}` : `must be less than ${max[2]}`;
  if (/expected number/.test(message)) return 'must be a number';
  if (/expected int/.test(message)) return 'must be a whole number';
  if (/expected string/.test(message)) return 'is missing';
  return message.replace(/^Invalid input:?\s*/, 'is not valid').toLowerCase();
}

interface Issue {
  path: string;
  message: string;
}

function issuesOf(error: StudioError): Issue[] {
  const details = error.details as { issues?: Issue[] } | undefined;
  return Array.isArray(details?.issues) ? details.issues : [];
}

export function describeError(error: unknown): string {
  if (error instanceof StudioError) {
    const issues = error.code === 'BAD_INPUT' ? issuesOf(error) : [];
    if (issues.length) {
      const list = issues.map((i) => `${i.path ? fieldName(i.path) : 'the value'} ${issueClause(i.message)}`);
      return `Please check the settings: ${list.join('; ')}.`;
    }
    const next = NEXT_STEP[error.code];
    const message = humanize(error.message);
    return next ? `${message} ${next}` : message;
  }
  return humanize(error instanceof Error ? error.message : String(error));
}
