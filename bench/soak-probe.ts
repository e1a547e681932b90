/**
 * Loaded into the soak's server process (`node --expose-gc --import ./bench/soak-probe.ts …`) and
 * nothing else: answers the soak's IPC requests with process.memoryUsage() (after a full GC when
 * asked) and the number of open resources (iterators) of dynalite's storage (abstract-level), and
 * writes a heap snapshot when asked. It adds no load of its own between requests.
 *
 * SOAK_CLOSE_DYNALITE_ITERATORS=1 (soak's --close-dynalite-iterators, a diagnosis only): dynalite 4
 * closes its iterators with `iterator.return()`, which abstract-level 3 iterators do not have (they
 * have `close()`), so every Query leaves one iterator open; this gives them a `return()` that closes.
 */
import { writeHeapSnapshot } from 'node:v8';

interface ProbeRequest {
  probe: 'memory' | 'snapshot';
  id: number;
  gc?: boolean;
  file?: string;
}

type Prototype = Record<string, unknown>;

let openResources = 0;
let shimmed = false;
try {
  // The copy dynalite's memory-level uses (hoisted, one copy in node_modules).
  const level = require('abstract-level') as { AbstractLevel: { prototype: Prototype }; AbstractIterator: { prototype: Prototype } };
  const levelPrototype = level.AbstractLevel.prototype as Prototype & {
    attachResource(resource: unknown): void;
    detachResource(resource: unknown): void;
  };
  const attach = levelPrototype.attachResource;
  const detach = levelPrototype.detachResource;
  levelPrototype.attachResource = function (this: unknown, resource: unknown) {
    openResources++;
    return attach.call(this, resource);
  };
  levelPrototype.detachResource = function (this: unknown, resource: unknown) {
    openResources--;
    return detach.call(this, resource);
  };
  if (process.env.SOAK_CLOSE_DYNALITE_ITERATORS === '1') {
    const common = Object.getPrototypeOf(level.AbstractIterator.prototype) as Prototype;
    if (!('return' in common)) {
      common.return = function (this: { close(): Promise<void> }) {
        return this.close();
      };
      shimmed = true;
    }
  }
} catch {
  openResources = NaN; // abstract-level not found: nothing to count
}

if (process.send) {
  process.on('message', (request: ProbeRequest) => {
    if (!request || typeof request !== 'object' || !('probe' in request)) return;
    if (request.probe === 'snapshot' && request.file) writeHeapSnapshot(request.file);
    const gc = (globalThis as { gc?: () => void }).gc;
    if (request.gc && gc) gc();
    process.send!({ probe: 'memory', id: request.id, gc: Boolean(request.gc && gc), usage: process.memoryUsage(), openResources, shimmed });
  });
  // The IPC channel must not keep the server alive on its own.
  process.channel?.unref();
}
