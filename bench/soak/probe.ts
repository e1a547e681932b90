/**
 * Loaded into the soak's server process (`node --expose-gc --import ./bench/soak/probe.ts …`) and
 * nothing else: answers the soak's IPC requests with process.memoryUsage() (after a full GC when
 * asked) and the number of open resources (iterators) of dynalite's storage (abstract-level), and
 * writes a heap snapshot when asked. It adds no load of its own between requests.
 * (dynalite 4.0.0 alone leaks one iterator per Query; local/dynamodb.ts closes them, and this count
 * shows it stays flat.)
 */
import { writeHeapSnapshot } from 'node:v8';
import { countStorageResources } from '../../test/support/storage-resources';

interface ProbeRequest {
  probe: 'memory' | 'snapshot';
  id: number;
  gc?: boolean;
  file?: string;
}

// Started before the server loads dynalite, so every iterator it opens is counted.
const openResources = countStorageResources();

if (process.send) {
  process.on('message', (request: ProbeRequest) => {
    if (!request || typeof request !== 'object' || !('probe' in request)) return;
    if (request.probe === 'snapshot' && request.file) writeHeapSnapshot(request.file);
    const gc = (globalThis as { gc?: () => void }).gc;
    if (request.gc && gc) gc();
    process.send!({ probe: 'memory', id: request.id, gc: Boolean(request.gc && gc), usage: process.memoryUsage(), openResources: openResources() });
  });
  // The IPC channel must not keep the server alive on its own.
  process.channel?.unref();
}
