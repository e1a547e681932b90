/**
 * Loaded into the soak's node server process (`node --expose-gc --import ./bench/soak/probe.ts …`)
 * and nothing else: answers the soak's IPC requests with process.memoryUsage() (after a full GC when
 * asked), and writes a heap snapshot when asked. It adds no load of its own between requests.
 * (DynamoDB Local is a java process: the soak reads its RSS from /proc, bench/soak/processes.ts.)
 */
import { writeHeapSnapshot } from 'node:v8';

interface ProbeRequest {
  probe: 'memory' | 'snapshot';
  id: number;
  gc?: boolean;
  file?: string;
}

if (process.send) {
  process.on('message', (request: ProbeRequest) => {
    if (!request || typeof request !== 'object' || !('probe' in request)) return;
    if (request.probe === 'snapshot' && request.file) writeHeapSnapshot(request.file);
    const gc = (globalThis as { gc?: () => void }).gc;
    if (request.gc && gc) gc();
    process.send!({ probe: 'memory', id: request.id, gc: Boolean(request.gc && gc), usage: process.memoryUsage() });
  });
  // The IPC channel must not keep the server alive on its own.
  process.channel?.unref();
}
