/**
 * `npm run soak [-- --duration 60 --json soak.json]`: the local server under mixed load on 127.0.0.1
 * for a while, then the checks. A script, not part of CI.
 *
 * Processes: the API (local/server.ts with the handlers, configured as `npm start` configures them)
 * runs as a node process of its own (bench/soak/server.ts), and the database is AWS's DynamoDB Local
 * in memory, a java process this script starts (bench/soak/processes.ts), so the API's memory is
 * measured apart from the data the database holds; --endpoint URL uses an engine that runs already
 * instead (a table of the soak's own). --single-process runs `local/start.ts --memory` itself: the
 * API in one process that starts its own DynamoDB Local, as `npm start`.
 *
 * Load, per chapter: senders (members for the whole run; some sends carry a client_msg_id and are
 * retried on 503, the others are never retried), churners (join, sometimes send, leave), pollers in
 * exact mode (last_id = the last id held) and legacy mode (msg_time = create_time of the last
 * message held) that follow has_more; plus a trickle of requests that must be refused (400/401/403/404).
 *
 * Checks: every poller holds every accepted message of its chapter exactly once, in id order, and
 * nothing that was not accepted; the stored log is dense and holds exactly the accepted messages;
 * member_count ends at the number of senders; no 5xx and no transport error; every answer has the
 * status its request expects; the API process's RSS grows less than 10 % after the warm-up
 * (DynamoDB Local's RSS is reported, not checked).
 * Exit code 0 when every check passes, 1 when one fails, 2 when the run itself broke.
 */
import { EngineUnreachableError } from '../../local/dynamodb';
import { JavaMissingError } from '../../local/dynamodb-local';
import { Client } from './client';
import { Load } from './load';
import { parseOptions } from './options';
import { Servers } from './processes';
import { report, reportProgress } from './report';

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  console.log(
    `soak: ${options.durationS} s of load on ${options.chapters} chapter(s), per chapter ${options.senders} senders, ` +
      `${options.churners} churners, ${options.exactPollers} exact + ${options.legacyPollers} legacy pollers; seed ${options.seed}`,
  );
  const servers = await Servers.start(options);
  console.log(`soak: ${servers.measured.map((m) => `${m.process.name} pid ${m.process.pid}${m.process.url ? ` at ${m.process.url}` : ' (the server\'s child)'}`).join(', ')}`);
  const client = new Client(new URL(servers.api.url));
  const load = new Load(client, options);
  await load.joinSenders();

  await servers.probeAll('start');
  const warmupEndMs = Math.min(options.warmupS, options.durationS) * 1000;
  servers.startLoad(warmupEndMs);
  const progress = reportProgress({ options, servers, load });
  await load.run(servers.loadStart);
  const loadEndMs = performance.now() - servers.loadStart;
  clearInterval(progress);
  await servers.endLoad();

  await load.drain();
  const drainMs = performance.now() - servers.loadStart - loadEndMs;
  servers.endDrain();

  const logs = await load.readStoredLogs();
  await servers.probeAll('drained');
  await servers.stopAll();
  return report({ options, servers, client, load, logs, warmupEndMs, loadEndMs, drainMs }) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    // No Java 17+, or --endpoint does not answer: one line; anything else with its stack.
    const known = error instanceof JavaMissingError || error instanceof EngineUnreachableError;
    console.error('soak: the run broke:', known ? error.message : error);
    process.exit(2);
  },
);
