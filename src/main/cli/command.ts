// What every CLI command looks like. Each command lives in its own file under ./commands and is
// listed in ./commands/index.ts. Commands parse their own flags with node:util parseArgs.

export interface CliIO {
  /** Prints one line to stdout. */
  out(line: string): void;
  /** Prints one line to stderr (progress, warnings). */
  err(line: string): void;
}

export interface CliCommand {
  name: string;
  /** One line for `studio --help`. */
  summary: string;
  /** Full usage text for `studio <name> --help`. */
  usage: string;
  /** Returns the process exit code. Throw StudioError for user-facing failures. */
  run(args: string[], io: CliIO, signal: AbortSignal): Promise<number>;
}
