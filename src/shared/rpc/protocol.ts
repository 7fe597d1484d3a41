// Wire messages of the studio protocol. Plain JSON, the same over every transport
// (in-memory pair, Electron IPC, WebSocket, the engine process channel).
//   req {id, method, input} → res {id, ok, data | error}
//   cancel {id}
//   sub {id, event, params} → evt {id, data} … (and end {id, error?} when the stream stops)
//   unsub {id}
import { z } from 'zod';
import { ERROR_CODES } from './errors';

export const ErrorEnvelopeSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  details: z.unknown().optional(),
});

const Id = z.number().int().nonnegative();

export const MessageSchema = z.union([
  z.object({ t: z.literal('req'), id: Id, method: z.string(), input: z.unknown() }),
  z.object({ t: z.literal('res'), id: Id, ok: z.literal(true), data: z.unknown() }),
  z.object({ t: z.literal('res'), id: Id, ok: z.literal(false), error: ErrorEnvelopeSchema }),
  z.object({ t: z.literal('cancel'), id: Id }),
  z.object({ t: z.literal('sub'), id: Id, event: z.string(), params: z.unknown() }),
  z.object({ t: z.literal('evt'), id: Id, data: z.unknown() }),
  z.object({ t: z.literal('end'), id: Id, error: ErrorEnvelopeSchema.optional() }),
  z.object({ t: z.literal('unsub'), id: Id }),
]);

export type Message = z.infer<typeof MessageSchema>;

/** A bidirectional message pipe. Each transport (IPC, WebSocket, process channel, memory) implements this. */
export interface Transport {
  send(message: Message): void;
  /** Registers a listener for incoming messages; returns a function that removes it. */
  onMessage(listener: (message: unknown) => void): () => void;
  /** Registers a listener called once when the pipe closes; returns a function that removes it. */
  onClose(listener: () => void): () => void;
  close(): void;
}

/** Contract shapes: every method has an input and output schema; every event its params and data schemas. */
export interface MethodSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  input: I;
  output: O;
}
export interface EventSpec<P extends z.ZodType = z.ZodType, D extends z.ZodType = z.ZodType> {
  params: P;
  data: D;
}
export interface Contract {
  methods: Record<string, MethodSpec>;
  events: Record<string, EventSpec>;
}

export type MethodName<C extends Contract> = keyof C['methods'] & string;
export type EventName<C extends Contract> = keyof C['events'] & string;
export type InputOf<C extends Contract, M extends MethodName<C>> = z.input<C['methods'][M]['input']>;
export type ParsedInputOf<C extends Contract, M extends MethodName<C>> = z.output<C['methods'][M]['input']>;
export type OutputOf<C extends Contract, M extends MethodName<C>> = z.output<C['methods'][M]['output']>;
export type ParamsOf<C extends Contract, E extends EventName<C>> = z.input<C['events'][E]['params']>;
export type ParsedParamsOf<C extends Contract, E extends EventName<C>> = z.output<C['events'][E]['params']>;
export type EventDataOf<C extends Contract, E extends EventName<C>> = z.output<C['events'][E]['data']>;

export function defineContract<C extends Contract>(contract: C): C {
  return contract;
}
