/**
 * Loaded into the soak's server process (`node --expose-gc --import ./bench/soak-probe.ts …`) and
 * nothing else: answers the soak's IPC requests with process.memoryUsage() (after a full GC when
 * asked) and the number of open resources (iterators) of dynalite's storage (abstract-level), and
 * writes a heap snapshot when asked. It adds no load of its own between requests.
 * (dynalite 4.0.0 alone leaks one iterator per Query; local/dynamodb.ts closes them, and this count
 * shows it stays flat.)
 */
import { writeHeapSnapshot } from 'node:v8';
import { dynaliteStorageLevel } from '../local/dynamodb';

interface ProbeRequest {
  probe: 'memory' | 'snapshot';
  id: number;
  gc?: boolean;
  file?: string;
}

type Prototype = Record<string, unknown>;

let openResources = 0;
try {
  const level = dynaliteStorageLevel() as { AbstractLevel: { prototype: Prototype } };
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
} catch {
  openResources = NaN; // abstract-level not found: nothing to count
}

if (process.send) {
  process.on('message', (request: ProbeRequest) => {
    if (!request || typeof request !== 'object' || !('probe' in request)) return;
    if (request.probe === 'snapshot' && request.file) writeHeapSnapshot(request.file);
    const gc = (globalThis as { gc?: () => void }).gc;
    if (request.gc && gc) gc();
    process.send!({ probe: 'memory', id: request.id, gc: Boolean(request.gc && gc), usage: process.memoryUsage(), openResources });
  });
  // The IPC channel must not keep the server alive on its own.
  process.channel?.unref();
}
