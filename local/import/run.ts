/**
 * `npm run import -- <file.jsonl> [--verify] [--table NAME] [--endpoint URL] [--parallel N]`:
 * imports the old backend's chat history (messages with their ids and times, members) from a JSON
 * Lines file (format: records.ts, events/import-example.jsonl, docs/operations.md), resumably; with
 * --verify, compares the table with the file instead. Locally (the default) on `npm start`'s DynamoDB
 * Local; with --table, on that deployed table with the default AWS credential chain and AWS_REGION.
 *
 * Exit codes: 0 all stored (or already there); 2 done, but some lines were refused or conflict (see
 * `<file>.rejects.jsonl`); 1 an error, a verify difference, or stopped (Ctrl-C: run again to resume).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ENV } from '../../lambda/contract';
import { dynamoDbConfig, openImportTable } from '../../lambda/data';
import { DEFAULT_DYNAMODB_PORT, LOCAL_TABLE_NAME } from '../environment';
import { importFile, type ImportResult } from './importer';
import { count, grouped, stdoutOutput, type Output } from './progress';
import { parsePart } from './records';
import { verifyFile } from './verify';

const USAGE = 'usage: npm run import -- <file.jsonl> [--verify] [--table NAME] [--endpoint URL] [--parallel N (1-1024, default 64)] [--part K/N]';
export const DEFAULT_PARALLEL = 64;

function summary(result: ImportResult, out: Output): void {
  const { counts } = result;
  const rate = result.seconds > 0 ? result.records / result.seconds : 0;
  const rows: [string, number, string?][] = [
    ['messages imported', counts.imported],
    ['already there', counts.present, 'the same message was in the table'],
    ['identical duplicates', counts.duplicates, 'skipped'],
    ['conflicts', counts.conflicts, counts.conflicts > 0 ? `kept as they are; see ${result.rejects}` : undefined],
    ['refused', counts.refused, counts.refused > 0 ? `see ${result.rejects}` : undefined],
    ['member records', counts.members],
    ['members added', counts.membersAdded, counts.members > counts.membersAdded ? `${grouped(counts.members - counts.membersAdded)} already members, or repeated` : undefined],
    ['retried requests', counts.retries, counts.retries > 0 ? 'throttled or failed, sent again' : undefined],
  ];
  const state = result.stopped ? `stopped after line ${grouped(result.lines)}: run the same command again to resume` : `done: ${grouped(result.lines)} lines`;
  const resumed = result.resumedAfter > 0 ? ` (resumed after line ${grouped(result.resumedAfter)}; counts include earlier runs)` : '';
  out.write(`${state}${resumed}\n`);
  for (const [name, value, note] of rows) out.write(`  ${name.padEnd(22)}${grouped(value).padStart(12)}${note ? `  (${note})` : ''}\n`);
  out.write(`  ${'this run'.padEnd(22)}${`${result.seconds.toFixed(1)} s`.padStart(12)}  (${grouped(result.records)} records, ${grouped(rate)} records/s)\n`);
  out.write(`checkpoint: ${result.checkpoint}\n`);
  if (!result.stopped) out.write('check it: the same command with --verify\n');
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      verify: { type: 'boolean' },
      table: { type: 'string' },
      endpoint: { type: 'string' },
      parallel: { type: 'string' },
      part: { type: 'string' },
    },
  });
  const part = values.part === undefined ? undefined : parsePart(values.part);
  if (values.part !== undefined && !part) throw new Error(`--part must be K/N with 0 ≤ K < N ≤ 64 (got ${values.part})\n${USAGE}`);
  const parallel = values.parallel === undefined ? DEFAULT_PARALLEL : Number(values.parallel);
  if (positionals.length !== 1 || !Number.isSafeInteger(parallel) || parallel < 1 || parallel > 1024) throw new Error(USAGE);
  const file = positionals[0];
  if (!existsSync(file)) throw new Error(`${file}: no such file`);
  // A deployed table (--table): the SDK's own endpoint and credentials. Otherwise npm start's engine.
  const endpoint = values.endpoint ?? (values.table ? undefined : process.env[ENV.dynamodbEndpoint] || `http://127.0.0.1:${process.env.DYNAMODB_PORT || DEFAULT_DYNAMODB_PORT}`);
  const tableName = values.table ?? LOCAL_TABLE_NAME;
  const table = openImportTable(dynamoDbConfig({ ...process.env, [ENV.dynamodbEndpoint]: endpoint }), tableName, { sockets: parallel + 8 });
  const out = stdoutOutput();
  try {
    await table.check();
    if (values.verify) {
      const result = await verifyFile({ file, table, out, part });
      for (const line of result.differences) out.write(`${line}\n`);
      const notes = [
        result.refused > 0 && `${grouped(result.refused)} refused line(s) not expected in the table`,
        result.newer > 0 && `${grouped(result.newer)} newer message(s) in the table after the imported ones (sent since; not compared)`,
      ].filter(Boolean);
      if (notes.length > 0) out.write(`note: ${notes.join('; ')}\n`);
      if (result.differences.length > 0) {
        out.write(`verify: DIFFERENCES in ${tableName}: ${result.differences.length} line(s) above\n`);
        return 1;
      }
      out.write(`verify: ${tableName} holds all ${count(result.messages, 'message')} and ${count(result.members, 'member')} of ${count(result.chapters, 'chapter')} exactly\n`);
      return 0;
    }
    const abort = new AbortController();
    const interrupt = () => {
      if (abort.signal.aborted) process.exit(130); // a second Ctrl-C: at once (the checkpoint is still valid)
      abort.abort();
    };
    process.on('SIGINT', interrupt);
    process.on('SIGTERM', interrupt);
    const which = part ? ` (part ${part.index} of ${part.of}: chapters with chapter_id % ${part.of} = ${part.index})` : '';
    out.write(`importing ${file}${which} into ${tableName}${endpoint ? ` at ${endpoint}` : ''}, up to ${parallel} requests in flight\n`);
    const result = await importFile({ file, table, parallel, out, signal: abort.signal, part });
    if (!result.stopped && result.resumedAfter === result.lines) {
      out.write(`nothing left to do: an earlier run did all ${grouped(result.lines)} lines (delete ${result.checkpoint} to run the whole file again)\n`);
    }
    summary(result, out);
    if (result.stopped) return 1;
    return result.counts.conflicts > 0 || result.counts.refused > 0 ? 2 : 0;
  } finally {
    table.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: NodeJS.ErrnoException) => {
    console.error(
      error.code === 'ECONNREFUSED' || (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED'
        ? `${error.message}: no engine answers there (is \`npm start\` running? or give --table / --endpoint)`
        : error.message || String(error),
    );
    process.exit(1);
  },
);
