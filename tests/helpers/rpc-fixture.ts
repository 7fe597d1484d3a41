// A small contract and services used to exercise the protocol over every transport.
import { z } from 'zod';
import { defineContract } from '#shared/rpc/protocol';
import { StudioError } from '#shared/rpc/errors';
import type { EventSources, Handlers } from '#shared/rpc/server';

export const testContract = defineContract({
  methods: {
    'math.add': { input: z.object({ a: z.number(), b: z.number() }).strict(), output: z.number() },
    'fail.domain': { input: z.object({}), output: z.null() },
    'fail.plain': { input: z.object({}), output: z.null() },
    'bad.output': { input: z.object({}), output: z.string() },
    'slow.wait': { input: z.object({ ms: z.number().int().min(0) }), output: z.literal('finished') },
  },
  events: {
    ticks: { params: z.object({ every: z.number().int().positive() }), data: z.object({ n: z.number() }) },
    finite: { params: z.object({ count: z.number().int().min(0) }), data: z.number() },
  },
});

export type TestContract = typeof testContract;

export interface Observed {
  calls: number;
  aborted: number;
  cleanups: number;
}

export function testServices(observed: Observed): { handlers: Handlers<TestContract>; events: EventSources<TestContract> } {
  return {
    handlers: {
      'math.add': ({ a, b }) => {
        observed.calls++;
        return a + b;
      },
      'fail.domain': () => {
        throw new StudioError('NOT_FOUND', 'No such photo: kitten.jpg');
      },
      'fail.plain': () => {
        throw new Error('boom');
      },
      'bad.output': () => 42 as unknown as string,
      'slow.wait': ({ ms }, { signal }) => {
        observed.calls++;
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => resolve('finished'), ms);
          signal.addEventListener('abort', () => {
            observed.aborted++;
            clearTimeout(timer);
            reject(new StudioError('CANCELLED', 'cancelled'));
          });
        });
      },
    },
    events: {
      ticks: ({ every }, { emit }) => {
        let n = 0;
        const timer = setInterval(() => emit({ n: n++ }), every);
        return () => {
          observed.cleanups++;
          clearInterval(timer);
        };
      },
      finite: ({ count }, { emit, end }) => {
        for (let i = 0; i < count; i++) emit(i);
        end();
      },
    },
  };
}
