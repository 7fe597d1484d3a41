// The CLI's command list. Add a command by creating its file here and listing it below.
import type { CliCommand } from '../command';
import { infoCommand } from './info';
import { serveCommand } from './serve';
import { datasetCommand } from './dataset';
import { synthCommand } from './synth';
import { restoreCommand } from './restore';
import { triageCommand } from './triage';
import { trainCommand } from './train';
import { evaluateCommand } from './evaluate';
import { modelsCommand } from './models';
import { queueCommand } from './queue';
import { workerCommand } from './worker';

export const commands: CliCommand[] = [infoCommand, serveCommand, datasetCommand, synthCommand, restoreCommand, triageCommand, trainCommand, evaluateCommand, modelsCommand, queueCommand, workerCommand];
