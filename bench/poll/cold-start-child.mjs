// One cold start: a fresh `node` process imports a built bundle (as the Lambda runtime loads the
// function) and answers one poll. Prints {importMs, firstPollMs, sinceProcessStartMs, cpuMs, statusCode}.
// Times come from performance.now(), which counts from this process's start; cpuMs is the CPU time
// (user + system, all threads) the import and the poll took, which a busy machine disturbs less.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const c0 = process.cpuUsage();
const t0 = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const t1 = performance.now();
const deadline = Date.now() + 10_000;
const result = await handler(event, {
  awsRequestId: 'cold-start',
  functionName: 'bench',
  getRemainingTimeInMillis: () => deadline - Date.now(),
});
const t2 = performance.now();
const cpu = process.cpuUsage(c0);
process.stdout.write(`${JSON.stringify({ importMs: t1 - t0, firstPollMs: t2 - t1, sinceProcessStartMs: t2, cpuMs: (cpu.user + cpu.system) / 1000, statusCode: result.statusCode })}\n`);
process.exit(0);
