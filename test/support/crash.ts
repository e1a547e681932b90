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

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
