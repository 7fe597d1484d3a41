// Runs the studio CLI from sources in a child process (tsx), the way a user or a script runs it.
import { spawn, type ChildProcess } from 'node:child_process';

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  child: ChildProcess;
  /** Resolves when the process exits. */
  result: Promise<CliResult>;
  /** Resolves with the first stdout line matching `test` (rejects if the process ends first). */
  line(test: (line: string) => boolean): Promise<string>;
}

function cliEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base = { ...process.env };
  delete base.STUDIO_BACKEND;
  return { ...base, ...env };
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/cli/index.ts', ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { test: (l: string) => boolean; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      for (const w of waiters.splice(0)) {
        if (w.test(line)) w.resolve(line);
        else waiters.push(w);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (status, signal) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`the CLI ended (${status ?? signal}) before the line came.\nstdout: ${stdout}\nstderr: ${stderr}`));
      resolve({ status, signal, stdout, stderr });
    });
  });
  return {
    child,
    result,
    line: (test) => {
      const seen = stdout.split('\n').slice(0, -1).find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => waiters.push({ test, resolve, reject }));
    },
  };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startCli(args, env).result;
}

export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{') || l.trim().startsWith('['))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
