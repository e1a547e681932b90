/**
 * `npm start [-- --memory]`: the whole API on 127.0.0.1 with no AWS and no Docker, on DynamoDB Local
 * (or on the engine DYNAMODB_ENDPOINT names). PORT picks the API port (default 3000), DYNAMODB_PORT
 * DynamoDB Local's (default 8000; it listens on every interface, so `sam local invoke`'s container reaches it).
 * While it runs, .local-data/endpoint.json says which database it serves (`npm run invoke` uses that one).
 *
 * It stops — server closed, DynamoDB Local stopped, ports free — on SIGINT, SIGTERM or SIGHUP, and
 * when the `npm start` that launched it goes away: npm passes SIGTERM on to its shell, but `sh -c`
 * (dash) dies without passing it on to tsx, so this process watches its launchers instead of trusting
 * every link of npm → sh → tsx → node to relay signals.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ENV } from '../lambda/contract';
import { DEMO_CHAPTER_ID } from './demo-chapter';
import { EngineUnreachableError } from './dynamodb';
import { JavaMissingError } from './dynamodb-local';
import {
  DEFAULT_DYNAMODB_PORT,
  DATA_DIR,
  LocalSettingError,
  announceDatabase,
  localMembershipMode,
  startLocalDatabase,
  useLocalEnvironment,
} from './environment';
import { loadHandlers } from './handlers';
import { startLocalPush } from './push';
import { createLocalServer } from './server';

/** How often the launchers are looked at. */
const WATCH_LAUNCHERS_MS = 1_000;

async function main(): Promise<void> {
  const memory = process.argv.includes('--memory');
  const port = Number(process.env.PORT ?? 3000);
  const external = process.env[ENV.dynamodbEndpoint];
  const membership = localMembershipMode(); // a bad MEMBERSHIP stops us before anything starts
  const db = await startLocalDatabase({ memory, port: Number(process.env.DYNAMODB_PORT ?? DEFAULT_DYNAMODB_PORT) });
  useLocalEnvironment(db);
  const server = createLocalServer(await loadHandlers());
  // The WebSocket API at /push on the same port, fed by DynamoDB Local's stream (local/push/).
  const push = await startLocalPush(server, db);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  }).catch(async (error) => {
    await db.close();
    throw error;
  });
  const announcement = announceDatabase(db);

  let stopping = false;
  const stop = (why: string) => {
    if (stopping) {
      // A second signal while closing: go now ('exit' still stops DynamoDB Local).
      process.exit(1);
    }
    stopping = true;
    console.log(`Stopping (${why}).`);
    announcement.forget();
    server.close();
    server.closeAllConnections();
    // Connections end first (their $disconnects still reach the database), then the database.
    void push
      .close()
      .catch((error: unknown) => console.error(error))
      .then(() => db.close())
      .then(() => process.exit(0));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  process.once('exit', () => announcement.forget());
  watchLaunchers((pid) => stop(`process ${pid}, which launched it, has exited`));

  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  console.log(`Group chat API listening on ${url}`);
  const data = external ? 'on that engine' : memory ? 'in memory' : `in ${DATA_DIR}`;
  console.log(`DynamoDB (${external ? ENV.dynamodbEndpoint : 'DynamoDB Local'}) at ${db.endpoint}, table ${db.tableName}, data ${data}`);
  console.log(
    membership === 'self'
      ? 'Membership: self (users join and leave; the admin routes are open here, deployed they need IAM)'
      : 'Membership: managed (join and leave answer 403; POST /admin/add_members is open here, deployed it needs IAM)',
  );
  console.log(`Demo chat page: ${url}/ (open it in two windows, as two users)`);
  console.log(`Push (WebSocket): ${url.replace('http', 'ws')}${push.path}?chapters=${DEMO_CHAPTER_ID}&user_id=42&user_type=2&user_name=Ada (members only; new messages arrive as they are sent)`);
  console.log(`Try it:\n  curl -s -X POST ${url}/message/find_group_chat -d 'id=${DEMO_CHAPTER_ID}&msg_time=0'`);
}

interface ProcessInfo {
  ppid: number;
  pgid: number;
  /** A zombie: it has exited, its parent has not reaped it yet. */
  exited: boolean;
}

/** ppid, process group and whether it has exited, from /proc (Linux) or ps (macOS); undefined when there is no such process. */
function processInfo(pid: number): ProcessInfo | undefined {
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
      const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { ppid: Number(ppid), pgid: Number(pgid), exited: state === 'Z' || state === 'X' };
    } catch {
      return undefined;
    }
  }
  try {
    const [ppid, pgid, state] = execFileSync('ps', ['-o', 'ppid=,pgid=,stat=', '-p', String(pid)], { encoding: 'utf8' }).trim().split(/\s+/);
    return { ppid: Number(ppid), pgid: Number(pgid), exited: state.startsWith('Z') };
  } catch {
    return undefined;
  }
}

/**
 * Calls `onGone` once when a process that launched this one exits: each ancestor from the parent
 * up to the leader of this process group (the shell's job, e.g. `npm start`), at most eight. A
 * launcher counts as gone when it has exited, or (below the leader) no longer has the parent it had:
 * its parent exited, or its pid was reused. The leader may change parents (a shell that exits
 * hands it to init) and keep running: then so does this.
 */
function watchLaunchers(onGone: (pid: number) => void): void {
  if (process.platform === 'win32') return;
  const own = processInfo(process.pid);
  if (!own) return;
  const launchers: Array<{ pid: number; ppid?: number }> = [];
  for (let pid = process.ppid; pid > 1 && launchers.length < 8; ) {
    const info = processInfo(pid);
    if (!info || info.pgid !== own.pgid) break;
    const leader = pid === own.pgid; // the job's leader: what the terminal started
    launchers.push({ pid, ppid: leader ? undefined : info.ppid });
    if (leader) break;
    pid = info.ppid;
  }
  const timer = setInterval(() => {
    for (const { pid, ppid } of launchers) {
      const info = processInfo(pid);
      const gone = !info || info.exited ? pid : ppid !== undefined && info.ppid !== ppid ? ppid : undefined;
      if (gone !== undefined) {
        clearInterval(timer);
        onGone(gone);
        return;
      }
    }
  }, WATCH_LAUNCHERS_MS);
  timer.unref();
}

main().catch((error: NodeJS.ErrnoException) => {
  // What to install, which engine does not answer, which port is taken: one line each, no stack.
  if (error instanceof JavaMissingError || error instanceof EngineUnreachableError || error instanceof LocalSettingError) console.error(error.message);
  else if (error.code === 'EADDRINUSE') console.error(`Port in use: ${error.message}. Set PORT or DYNAMODB_PORT.`);
  else if (/^Cannot start DynamoDB Local on port/.test(error.message)) console.error(`${error.message}. Set DYNAMODB_PORT.`);
  else console.error(error);
  process.exit(1);
});
