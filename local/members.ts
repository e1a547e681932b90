/**
 * `npm run members -- add|remove --chapter N (--users 1,4,… | --file FILE) [--url URL] [--region R]`:
 * adds users to (or removes them from) a chapter's chat through the admin routes, as the course
 * platform's backend does — to sync enrolments by hand, or to seed a local run. Ids from a file are
 * one per line or comma-separated. They are sent in calls of at most 100; each call is idempotent,
 * so a run that stopped halfway is simply run again.
 *
 * The URL is a deployed stack's `ApiUrl` (requests signed with SigV4 by the AWS SDK's signer, with
 * the default credential chain: AWS_PROFILE, environment, SSO, instance role…) or a local server
 * (default http://127.0.0.1:3000, nothing signed). Progress goes to stderr, the final
 * `member_count` to stdout; any failure is one line on stderr and exit code 1.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_URL, MembersError, parseUserIds, syncMembers } from './members-client';

const USAGE = `usage: npm run members -- add|remove --chapter N (--users 1,4,… | --file FILE) [--url URL, default ${DEFAULT_URL}] [--region REGION]`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      chapter: { type: 'string' },
      users: { type: 'string' },
      file: { type: 'string' },
      url: { type: 'string' },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const [action, ...extra] = positionals;
  if (action !== 'add' && action !== 'remove') throw new MembersError(`add or remove? ${USAGE}`);
  if (extra.length > 0) throw new MembersError(`unexpected argument "${extra[0]}"; ${USAGE}`);
  const chapterId = /^\d+$/.test(values.chapter ?? '') ? Number(values.chapter) : NaN;
  if (!Number.isSafeInteger(chapterId) || chapterId < 1) throw new MembersError(`--chapter must be a chapter id (an integer of at least 1); ${USAGE}`);
  if ((values.users === undefined) === (values.file === undefined)) throw new MembersError(`give either --users or --file; ${USAGE}`);
  const userIds = values.file !== undefined ? parseUserIds(readIds(values.file), values.file) : parseUserIds(values.users!, '--users');

  const { member_count } = await syncMembers({
    action,
    chapterId,
    userIds,
    url: values.url,
    region: values.region,
    onProgress: ({ sent, total, memberCount }) =>
      console.error(`${action} (chapter ${chapterId}): ${sent}/${total} user ids sent, member_count ${memberCount}`),
  });
  console.log(`member_count ${member_count}`);
}

function readIds(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new MembersError(`--file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

main().catch((error: unknown) => {
  // One line: what to fix or what answered; a stack trace would only hide it.
  console.error(`members: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`);
  process.exit(1);
});
