#!/usr/bin/env node
// `studio <command> …`: the command-line face of the studio. Same services, same validation, same errors
// as the app. Exit codes: 0 success, 1 a failure the user can act on, 2 bad usage.
import { pathToFileURL } from 'node:url';
import { StudioError, toErrorEnvelope } from '#shared/rpc/errors';
import type { CliIO } from './command';
import { commands } from './commands';

const io: CliIO = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

function printHelp(): void {
  io.out('Usage: studio <command> [options]\n\nCommands:');
  for (const c of commands) io.out(`  ${c.name.padEnd(10)} ${c.summary}`);
  io.out('\nRun `studio <command> --help` for a command\'s options.');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    printHelp();
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`studio: unknown command "${name}". Run \`studio --help\` for the list.`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage);
    return 0;
  }
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const json = rest.includes('--json');
  try {
    return await command.run(rest, io, controller.signal);
  } catch (error) {
    const usage = isUsageError(error);
    const envelope = usage
      ? { code: 'BAD_INPUT' as const, message: (error as Error).message }
      : toErrorEnvelope(error);
    if (json) io.out(JSON.stringify({ error: envelope }));
    io.err(`studio ${name}: ${envelope.message}`);
    if (usage) io.err(`Run \`studio ${name} --help\` for usage.`);
    return usage ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or malformed flags. */
function isUsageError(error: unknown): boolean {
  if (error instanceof StudioError) return error.code === 'BAD_INPUT';
  const code = (error as { code?: string } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}


// Run when this file is the program (tsx src/main/cli/index.ts, node out/main/cli.js), not when imported.
const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      io.err(String(error));
      process.exitCode = 1;
    },
  );
}
