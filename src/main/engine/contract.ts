// The contract between the main process and the engine process. Same protocol as the UI's.
import { z } from 'zod';
import { defineContract } from '../../shared/rpc/protocol';
import { BackendPreferenceSchema, BackendStatusSchema } from '../../shared/engine-types';

const Empty = z.object({}).strict();

export const engineContract = defineContract({
  methods: {
    'engine.info': { input: Empty, output: BackendStatusSchema.extend({ pid: z.number().int() }) },
    'engine.setBackend': { input: z.object({ preference: BackendPreferenceSchema }).strict(), output: BackendStatusSchema },
    /** Test hook: exits the process mid-request. Enabled only when STUDIO_TEST=1. */
    'engine.crashForTest': { input: Empty, output: z.null() },
    /** Test hook: resolves after ms unless cancelled. Enabled only when STUDIO_TEST=1. */
    'engine.sleepForTest': { input: z.object({ ms: z.number().int().min(0).max(60_000) }).strict(), output: z.null() },
  },
  events: {},
});

export type EngineContract = typeof engineContract;
