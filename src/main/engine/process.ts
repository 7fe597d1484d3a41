// Entry point of the engine process (child_process.fork outside Electron, utilityProcess inside).
import { serveRpc } from '#shared/rpc/server';
import { parentTransport } from '../transport/process-channel';
import { engineContract } from './contract';
import { createEngineHandlers, createEngineSources } from './handlers';

const transport = parentTransport();
serveRpc(transport, engineContract, createEngineHandlers(), createEngineSources());
// When the parent goes away, so do we: an orphaned engine would hold memory for nothing.
transport.onClose(() => process.exit(0));
