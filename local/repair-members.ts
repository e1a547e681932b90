/**
 * `npm run repair-members -- --chapter N | --all [--table NAME] [--endpoint URL]`: recounts the
 * member items of one chapter (or of every chapter) and stores that count as member_count, for the
 * rare drift after a manual edit or a restore (lambda/data/repair.ts). Locally (the default) on
 * `npm start`'s DynamoDB Local; with --table, on that deployed table with the default AWS
 * credential chain and AWS_REGION.
 */
import { parseArgs } from 'node:util';
import { ENV } from '../lambda/contract';
import { chaptersWithMembers, createDocumentClient, dynamoDbConfig, recountMembers } from '../lambda/data';
import { DEFAULT_DYNAMODB_PORT, LOCAL_TABLE_NAME } from './environment';

const USAGE = 'usage: npm run repair-members -- --chapter N | --all [--table NAME] [--endpoint URL]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { chapter: { type: 'string' }, all: { type: 'boolean' }, table: { type: 'string' }, endpoint: { type: 'string' } },
  });
  const chapter = values.chapter === undefined ? undefined : Number(values.chapter);
  if ((chapter === undefined) === !values.all || (chapter !== undefined && !(Number.isSafeInteger(chapter) && chapter > 0))) throw new Error(USAGE);
  // A deployed table (--table): the SDK's own endpoint and credentials. Otherwise npm start's engine.
  const endpoint = values.endpoint ?? (values.table ? undefined : process.env[ENV.dynamodbEndpoint] || `http://127.0.0.1:${process.env.DYNAMODB_PORT || DEFAULT_DYNAMODB_PORT}`);
  const tableName = values.table ?? LOCAL_TABLE_NAME;
  const db = createDocumentClient(dynamoDbConfig({ ...process.env, [ENV.dynamodbEndpoint]: endpoint }));
  try {
    const chapters = chapter !== undefined ? [chapter] : chaptersWithMembers(db, tableName);
    let done = 0;
    let repaired = 0;
    for await (const id of chapters) {
      const { before, after } = await recountMembers(db, tableName, id);
      done++;
      if (before !== after) {
        repaired++;
        console.log(`chapter ${id}: member_count ${before} -> ${after}`);
      }
      if (done % 100 === 0) console.log(`${done} chapters recounted, ${repaired} repaired…`);
    }
    console.log(`${done} chapter(s) recounted on ${tableName}, ${repaired} repaired`);
  } finally {
    db.destroy();
  }
}

main().catch((error: NodeJS.ErrnoException) => {
  console.error(error.code === 'ECONNREFUSED' ? `${error.message}: no local engine there (is \`npm start\` running? or give --table / --endpoint)` : error.message);
  process.exit(1);
});
