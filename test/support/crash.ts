/** Crash injection between the steps of a domain call: the step's write is applied, then the "process" dies. */
export class InjectedCrash extends Error {
  constructor(readonly after: string) {
    super(`injected crash after ${after}`);
    this.name = 'InjectedCrash';
  }
}

/**
 * Wraps a store so that a call of a method for which `crashAfter` says yes completes, then throws.
 * `delayMs` (e.g. a random 0–20 ms) stalls each step first, so concurrent calls interleave widely.
 */
export function crashingStore<T extends object>(store: T, crashAfter: (method: string) => boolean, delayMs?: () => number): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs()));
        const result = await value.apply(target, args);
        if (crashAfter(String(property))) throw new InjectedCrash(String(property));
        return result;
      };
    },
  });
}
