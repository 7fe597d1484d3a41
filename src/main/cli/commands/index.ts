// The CLI's command list. Add a command by creating its file here and listing it below.
import type { CliCommand } from '../command';
import { infoCommand } from './info';
import { serveCommand } from './serve';
import { datasetCommand } from './dataset';
import { synthCommand } from './synth';

export const commands: CliCommand[] = [infoCommand, serveCommand, datasetCommand, synthCommand];
