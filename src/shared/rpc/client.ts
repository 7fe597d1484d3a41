// The calling side of the protocol: typed calls that resolve with the handler's output or reject with a
// StudioError carrying the envelope's code; cancellation through AbortSignal; event subscriptions.
import { StudioError, type ErrorEnvelope } from './errors';
import {
  MessageSchema,
  type Contract,
  type EventDataOf,
  type EventName,
  type InputOf,
  type MethodName,
  type OutputOf,
  type ParamsOf,
  type Transport,
} from './protocol';

export interface CallOptions {
  signal?: AbortSignal;
}

export interface SubscribeHandlers<D> {
  data(data: D): void;
  /** Called once when the stream ends from the other side, or fails (e.g. transport closed). */
  end?(error?: StudioError): void;
}

export interface RpcClientOptions {
  /** The error pending calls fail with when the transport closes. */
  closedError?: () => ErrorEnvelope;
}

interface Pending {
  resolve(data: unknown): void;
  reject(error: StudioError): void;
  cleanup(): void;
}

const cancelled = (): StudioError => new StudioError('CANCELLED', 'The operation was cancelled.');

export class RpcClient<C extends Contract> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Map<number, SubscribeHandlers<unknown>>();
  private closed = false;
  private readonly removeListeners: (() => void)[];

  constructor(
    private readonly transport: Transport,
    private readonly options: RpcClientOptions = {},
  ) {
    this.removeListeners = [transport.onMessage((m) => this.onMessage(m)), transport.onClose(() => this.onClose())];
  }

  get isClosed(): boolean {
    return this.closed;
  }

  call<M extends MethodName<C>>(method: M, input: InputOf<C, M>, options: CallOptions = {}): Promise<OutputOf<C, M>> {
    const { signal } = options;
    if (this.closed) return Promise.reject(this.closedError());
    if (signal?.aborted) return Promise.reject(cancelled());
    const id = this.nextId++;
    return new Promise<OutputOf<C, M>>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        this.transport.send({ t: 'cancel', id });
        reject(cancelled());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (data) => resolve(data as OutputOf<C, M>),
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      this.transport.send({ t: 'req', id, method, input });
    });
  }

  /** Starts an event stream; returns the function that stops it. */
  subscribe<E extends EventName<C>>(
    event: E,
    params: ParamsOf<C, E>,
    handlers: SubscribeHandlers<EventDataOf<C, E>> | ((data: EventDataOf<C, E>) => void),
  ): () => void {
    const h: SubscribeHandlers<unknown> =
      typeof handlers === 'function' ? { data: handlers as (d: unknown) => void } : (handlers as SubscribeHandlers<unknown>);
    if (this.closed) {
      h.end?.(this.closedError());
      return () => {};
    }
    const id = this.nextId++;
    this.streams.set(id, h);
    this.transport.send({ t: 'sub', id, event, params });
    return () => {
      if (!this.streams.delete(id)) return;
      if (!this.closed) this.transport.send({ t: 'unsub', id });
    };
  }

  /** Live calls and streams (tests assert nothing is left behind). */
  stats(): { calls: number; subscriptions: number } {
    return { calls: this.pending.size, subscriptions: this.streams.size };
  }

  close(): void {
    this.transport.close();
    this.onClose();
  }

  private closedError(): StudioError {
    const envelope = this.options.closedError?.() ?? {
      code: 'TRANSPORT_CLOSED' as const,
      message: 'The connection closed before the operation finished.',
    };
    return StudioError.fromEnvelope(envelope);
  }

  private onMessage(raw: unknown): void {
    const parsed = MessageSchema.safeParse(raw);
    if (!parsed.success) return;
    const message = parsed.data;
    if (message.t === 'res') {
      const pending = this.pending.get(message.id);
      if (!pending) return; // cancelled or unknown: late answers are dropped
      this.pending.delete(message.id);
      pending.cleanup();
      if (message.ok) pending.resolve(message.data);
      else pending.reject(StudioError.fromEnvelope(message.error));
    } else if (message.t === 'evt') {
      this.streams.get(message.id)?.data(message.data);
    } else if (message.t === 'end') {
      const stream = this.streams.get(message.id);
      if (!stream) return;
      this.streams.delete(message.id);
      stream.end?.(message.error ? StudioError.fromEnvelope(message.error) : undefined);
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    const error = this.closedError();
    for (const pending of this.pending.values()) {
      pending.cleanup();
      pending.reject(error);
    }
    this.pending.clear();
    for (const stream of this.streams.values()) stream.end?.(error);
    this.streams.clear();
    for (const remove of this.removeListeners) remove();
  }
}
