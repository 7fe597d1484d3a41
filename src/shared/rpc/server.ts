// The receiving side of the protocol: parses every input with its zod schema, runs the handler with an
// AbortSignal, answers with data or an error envelope, and runs event subscriptions until unsub or close.
import type { z } from 'zod';
import { StudioError, toErrorEnvelope, type ErrorEnvelope } from './errors';
import {
  MessageSchema,
  type Contract,
  type EventDataOf,
  type EventName,
  type Message,
  type MethodName,
  type OutputOf,
  type ParsedInputOf,
  type ParsedParamsOf,
  type Transport,
} from './protocol';

export interface CallContext {
  signal: AbortSignal;
}

export interface SubscriptionContext<D> {
  signal: AbortSignal;
  emit(data: D): void;
  /** Ends the stream from the source side (with an error, or normally). */
  end(error?: unknown): void;
}

export type Handlers<C extends Contract> = {
  [M in MethodName<C>]: (input: ParsedInputOf<C, M>, ctx: CallContext) => Promise<OutputOf<C, M>> | OutputOf<C, M>;
};

/** A subscription source returns a cleanup function (or nothing) and emits until cleaned up. */
export type EventSources<C extends Contract> = {
  [E in EventName<C>]?: (
    params: ParsedParamsOf<C, E>,
    ctx: SubscriptionContext<EventDataOf<C, E>>,
  ) => void | (() => void);
};

export interface RpcConnection {
  /** In-flight calls and live subscriptions; tests use it to prove nothing is left behind. */
  stats(): { calls: number; subscriptions: number };
  close(): void;
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): { path: string; message: string }[] {
  return issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(input)',
    message: issue.message,
  }));
}

export function badInput(what: string, issues: readonly z.core.$ZodIssue[]): StudioError {
  const list = formatIssues(issues);
  const summary = list.map((i) => `${i.path}: ${i.message}`).join('; ');
  return new StudioError('BAD_INPUT', `Invalid ${what}: ${summary}`, { issues: list });
}

export function serveRpc<C extends Contract>(
  transport: Transport,
  contract: C,
  handlers: Handlers<C>,
  sources: EventSources<C> = {},
): RpcConnection {
  const calls = new Map<number, AbortController>();
  const subscriptions = new Map<number, { controller: AbortController; cleanup?: () => void }>();
  let closed = false;

  const send = (message: Message): void => {
    if (!closed) transport.send(message);
  };
  const fail = (id: number, error: unknown): void => send({ t: 'res', id, ok: false, error: toErrorEnvelope(error) });

  async function handleCall(id: number, method: string, rawInput: unknown): Promise<void> {
    const spec = Object.hasOwn(contract.methods, method) ? contract.methods[method] : undefined;
    const handler = spec ? (handlers as Record<string, (i: unknown, c: CallContext) => unknown>)[method] : undefined;
    if (!spec || !handler) return fail(id, new StudioError('UNKNOWN_METHOD', `Unknown method "${method}".`));
    const parsed = spec.input.safeParse(rawInput ?? {});
    if (!parsed.success) return fail(id, badInput(`input for ${method}`, parsed.error.issues));
    const controller = new AbortController();
    calls.set(id, controller);
    try {
      const result = await handler(parsed.data, { signal: controller.signal });
      if (controller.signal.aborted) return; // the caller has already been told it was cancelled
      const output = spec.output.safeParse(result);
      if (!output.success) throw badOutput(method, output.error.issues);
      send({ t: 'res', id, ok: true, data: output.data });
    } catch (error) {
      if (!controller.signal.aborted) fail(id, error);
    } finally {
      calls.delete(id);
    }
  }

  function handleSub(id: number, event: string, rawParams: unknown): void {
    const spec = Object.hasOwn(contract.events, event) ? contract.events[event] : undefined;
    const source = spec ? (sources as Record<string, EventSources<C>[EventName<C>]>)[event] : undefined;
    const endWith = (error?: unknown): void => {
      send({ t: 'end', id, ...(error === undefined ? {} : { error: toErrorEnvelope(error) }) });
    };
    if (!spec || !source) return endWith(new StudioError('UNKNOWN_EVENT', `Unknown event "${event}".`));
    const parsed = spec.params.safeParse(rawParams ?? {});
    if (!parsed.success) return endWith(badInput(`parameters for ${event}`, parsed.error.issues));
    const controller = new AbortController();
    const entry: { controller: AbortController; cleanup?: () => void } = { controller };
    subscriptions.set(id, entry);
    const stop = (): void => {
      if (subscriptions.get(id) !== entry) return;
      subscriptions.delete(id);
      controller.abort();
      entry.cleanup?.();
    };
    const ctx: SubscriptionContext<unknown> = {
      signal: controller.signal,
      emit: (data) => {
        if (controller.signal.aborted) return;
        send({ t: 'evt', id, data });
      },
      end: (error) => {
        if (controller.signal.aborted) return;
        stop();
        endWith(error);
      },
    };
    try {
      const cleanup = (source as (p: unknown, c: SubscriptionContext<unknown>) => void | (() => void))(parsed.data, ctx);
      if (typeof cleanup === 'function') {
        if (controller.signal.aborted) cleanup();
        else entry.cleanup = cleanup;
      }
    } catch (error) {
      ctx.end(error);
    }
  }

  function onMessage(raw: unknown): void {
    const parsed = MessageSchema.safeParse(raw);
    if (!parsed.success) return answerMalformed(raw, parsed.error.issues);
    const message = parsed.data;
    switch (message.t) {
      case 'req':
        if (calls.has(message.id)) return fail(message.id, new StudioError('BAD_INPUT', `Duplicate request id ${message.id}.`));
        void handleCall(message.id, message.method, message.input);
        break;
      case 'cancel':
        calls.get(message.id)?.abort();
        calls.delete(message.id);
        break;
      case 'sub':
        handleSub(message.id, message.event, message.params);
        break;
      case 'unsub': {
        const entry = subscriptions.get(message.id);
        if (entry) {
          subscriptions.delete(message.id);
          entry.controller.abort();
          entry.cleanup?.();
        }
        break;
      }
      default:
        break;
    }
  }

  /**
   * A request or subscription that names an id but is not well formed gets its error, so the caller is not
   * left waiting; anything without an id is not ours (or garbage) and is ignored rather than crash the host.
   */
  function answerMalformed(raw: unknown, issues: readonly z.core.$ZodIssue[]): void {
    if (typeof raw !== 'object' || raw === null) return;
    const { t, id } = raw as { t?: unknown; id?: unknown };
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return;
    if (t === 'req' && !calls.has(id)) fail(id, badInput('request', issues));
    else if (t === 'sub' && !subscriptions.has(id)) send({ t: 'end', id, error: toErrorEnvelope(badInput('subscription', issues)) });
  }

  function close(): void {
    if (closed) return;
    closed = true;
    for (const controller of calls.values()) controller.abort();
    calls.clear();
    for (const entry of subscriptions.values()) {
      entry.controller.abort();
      entry.cleanup?.();
    }
    subscriptions.clear();
    removeMessage();
    removeClose();
  }

  const removeMessage = transport.onMessage(onMessage);
  const removeClose = transport.onClose(close);

  return {
    stats: () => ({ calls: calls.size, subscriptions: subscriptions.size }),
    close,
  };
}

function badOutput(method: string, issues: readonly z.core.$ZodIssue[]): StudioError {
  const error = badInput(`output of ${method}`, issues);
  return new StudioError('INTERNAL', error.message, error.details);
}

export type { ErrorEnvelope };

/**
 * Turns a long task into a subscription source: the task emits progress as stream data; the stream ends
 * when the task resolves, or ends with the task's error; unsubscribing aborts the task's signal.
 */
export function streamTask<P, D>(
  task: (params: P, ctx: { signal: AbortSignal; emit(data: D): void }) => Promise<void>,
): (params: P, ctx: SubscriptionContext<D>) => void {
  return (params, ctx) => {
    task(params, { signal: ctx.signal, emit: ctx.emit }).then(
      () => ctx.end(),
      (error: unknown) => ctx.end(error),
    );
  };
}
