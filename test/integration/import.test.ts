/**
 * `npm run import` on the real engine: the old backend's history goes in as a send would have
 * written it (ids, create_time, second_seq by position in the second), members through addMembers
 * (member_count exact), refused lines with their line number and reason, never an overwrite, a re-run
 * that stores nothing twice, a resume after a SIGKILL at a random record, --verify catching a deleted
 * message, and the imported chapter read back completely by find_group_chat in both modes, after
 * which a send takes the next id.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ENV, MAX_MESSAGE_LENGTH, type Message } from '../../lambda/contract';
import { dynamoDbConfig, openImportTable, type ImportTable } from '../../lambda/data';
import { findGroupChat } from '../../lambda/domain/find-group-chat';
import { sendGroupChat } from '../../lambda/domain/send-group-chat';
import { MAX_IMPORTED_PER_SECOND } from '../../local/import/records';
import { checkpointPath, readCheckpoint } from '../../local/import/checkpoint';
import { importFile, rejectsPath } from '../../local/import/importer';
import { silentOutput } from '../../local/import/progress';
import { verifyFile } from '../../local/import/verify';
import { chapterItems, startTestTable, type TestTable } from '../support/dynamodb';
import { randomFaults, startFaultProxy } from '../support/fault-proxy';
import { seededRandom } from '../support/random';

const ROOT = path.resolve(__dirname, '../..');

let table: TestTable;
let importTable: ImportTable;
let dir: string;

beforeAll(async () => {
  table = await startTestTable('import');
  importTable = openImportTable(dynamoDbConfig({ [ENV.dynamodbEndpoint]: table.endpoint }), table.tableName);
  dir = mkdtempSync(path.join(tmpdir(), 'import-test-'));
});
afterAll(async () => {
  importTable.destroy();
  await table.close();
  rmSync(dir, { recursive: true, force: true });
});

const student = { user_id: 1, user_type: 3, user_name: '一宠三花迷(测试)' };
const teacher = { user_id: 4, user_type: 2, user_name: 'xxx' };

type Line = Record<string, unknown> | string;
const messageLine = (chapterId: number, m: Message) => ({ chapter_id: chapterId, ...m });
const memberLine = (chapterId: number, userId: number, extra: Record<string, unknown> = {}) => ({ chapter_id: chapterId, user_id: userId, ...extra });

function writeJsonl(name: string, lines: Line[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return file;
}

const runImport = (file: string, parallel = 32) => importFile({ file, table: importTable, parallel, out: silentOutput(), joinedAt: 1719283900 });
const messageItemsOf = (chapterId: number) => chapterItems(table, chapterId, 'msg#');

/** `count` messages from `firstId` (every `gap`-th id), `perSecond` sharing each create_time from `firstTime`. */
function history(options: { firstId: number; count: number; firstTime: number; perSecond: number; gap?: number }): Message[] {
  const { firstId, count, firstTime, perSecond, gap = 1 } = options;
  return Array.from({ length: count }, (_, i) => ({
    id: firstId + i * gap,
    ...(i % 3 === 0 ? teacher : student),
    msg_body: `history ${firstId + i * gap}`,
    create_time: firstTime + Math.floor(i / perSecond),
  }));
}


function rejectsOf(file: string): { line: number; kind: string; reason: string; text: string }[] {
  if (!existsSync(rejectsPath(file))) return [];
  return readFileSync(rejectsPath(file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .sort((a, b) => a.line - b.line);
}

/** The CLI as an operator runs it (one process, so a kill reaches the importer itself). */
function cli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'local/import/run.ts'), ...args, '--endpoint', table.endpoint, '--table', table.tableName], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, output }));
  });
  return { child, exited };
}

describe('an import', () => {
  const CHAPTER = 101;
  const messages: Message[] = [
    { id: 10, ...student, msg_body: 'a', create_time: 1719283991 },
    { id: 11, ...teacher, msg_body: 'b', create_time: 1719283991 },
    { id: 13, ...student, msg_body: 'c', create_time: 1719283991 },
    { id: 20, ...teacher, msg_body: 'd', create_time: 1719283995 },
  ];
  let file: string;

  it('stores messages exactly as a send writes them (second_seq = position within the second) and counts members in exactly', async () => {
    file = writeJsonl('basic.jsonl', [
      memberLine(CHAPTER, 1, { user_type: 3, user_name: student.user_name }),
      ...messages.map((m) => messageLine(CHAPTER, m)),
      memberLine(CHAPTER, 4),
      memberLine(CHAPTER, 7, { joined_at: 1719280000 }),
      memberLine(CHAPTER, 4), // repeated: counted once
      '',
    ]);
    const result = await runImport(file);
    expect(result.counts).toMatchObject({ imported: 4, present: 0, conflicts: 0, refused: 0, members: 4, membersAdded: 3 });
    expect(result.stopped).toBe(false);

    const items = await messageItemsOf(CHAPTER);
    expect(items).toEqual(
      messages.map((m, i) => ({ chapter_id: CHAPTER, sk: `msg#${String(m.id).padStart(16, '0')}`, ...m, second_seq: [0, 1, 2, 0][i] })),
    );
    expect(await importTable.memberCount(CHAPTER)).toBe(3);
    expect((await importTable.memberIds(CHAPTER)).sort()).toEqual([1, 4, 7]);
    expect(readCheckpoint(checkpointPath(file))).toMatchObject({ lines: 9, complete: true });
    expect(existsSync(rejectsPath(file))).toBe(false);
  });

  it('stores nothing twice when run again: with its checkpoint it has nothing left to do; without it, everything is already there', async () => {
    const again = await runImport(file);
    expect(again).toMatchObject({ resumedAfter: 9, records: 0 });
    unlinkSync(checkpointPath(file));
    const fresh = await runImport(file);
    expect(fresh.counts).toMatchObject({ imported: 0, present: 4, conflicts: 0, members: 4, membersAdded: 0 });
    expect(await messageItemsOf(CHAPTER)).toHaveLength(4);
    expect(await importTable.memberCount(CHAPTER)).toBe(3);
  });

  it('starts over from line 1 when the file changed before its checkpoint: what is stored is found again, a changed message is a conflict', async () => {
    const edited = readFileSync(file, 'utf8').replace('"msg_body":"c"', '"msg_body":"c, edited"');
    writeFileSync(file, edited);
    const result = await runImport(file);
    expect(result.restartReason).toMatch(/not the ones the checkpoint recorded/);
    expect(result.counts).toMatchObject({ imported: 0, present: 3, conflicts: 1, membersAdded: 0 });
    expect(rejectsOf(file)).toMatchObject([{ line: 4, kind: 'conflict' }]);
  });
});

describe('refused records', () => {
  it('go to <file>.rejects.jsonl with their line number and reason, and the rest go on', async () => {
    const C = 102;
    const t = 1719290000;
    const base = { ...teacher, msg_body: 'ok' };
    const burst = Array.from({ length: MAX_IMPORTED_PER_SECOND + 1 }, (_, i) => messageLine(C, { id: 100 + i, ...base, create_time: t + 10 }));
    const lines: Line[] = [
      messageLine(C, { id: 1, ...base, create_time: t }), // 1 ok
      '{"chapter_id": 102, "id": 2', // 2 not JSON
      { chapter_id: C, id: 3, user_id: 4, user_type: 2, msg_body: 'x', create_time: t }, // 3 missing user_name
      { chapter_id: C, id: '4', ...base, create_time: t }, // 4 id as a string
      messageLine(C, { id: 5, ...base, msg_body: 'x'.repeat(MAX_MESSAGE_LENGTH + 1), create_time: t }), // 5 too long
      messageLine(C, { id: 6, ...base, create_time: t + 1 }), // 6 ok
      messageLine(C, { id: 6, ...base, msg_body: 'other', create_time: t + 1 }), // 7 duplicate id, other content
      messageLine(C, { id: 6, ...base, create_time: t + 1 }), // 8 identical duplicate: skipped
      messageLine(C, { id: 5, ...base, create_time: t + 1 }), // 9 id going back
      messageLine(C, { id: 7, ...base, create_time: t }), // 10 create_time going back
      messageLine(C, { id: 8, ...base, create_time: 1719290000123 }), // 11 milliseconds
      '[1, 2]', // 12 not an object
      { chapter_id: C }, // 13 a member without user_id
      ...burst, // 14 … 214, the last one over the cap
      messageLine(C, { id: 400, ...base, create_time: t + 11 }), // 215 ok
    ];
    const file = writeJsonl('refused.jsonl', lines);
    const result = await runImport(file);
    const rejects = rejectsOf(file);
    expect(rejects.map((r) => [r.line, r.kind])).toEqual([2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 214].map((line) => [line, 'refused']));
    const reason = (line: number) => rejects.find((r) => r.line === line)!.reason;
    expect(reason(2)).toMatch(/^not JSON/);
    expect(reason(3)).toBe('missing user_name');
    expect(reason(4)).toBe('id must be an integer ≥ 1 (got "4")');
    expect(reason(5)).toBe(`msg_body has ${MAX_MESSAGE_LENGTH + 1} characters, more than ${MAX_MESSAGE_LENGTH}`);
    expect(reason(7)).toBe('duplicate id 6 in chapter 102 with other content than line 6');
    expect(reason(9)).toMatch(/^id 5 comes after id 6 \(line 6\) in chapter 102/);
    expect(reason(10)).toMatch(/^create_time 1719290000 is before create_time 1719290001 of id 6/);
    expect(reason(11)).toMatch(/^create_time must be an integer from 0 to/);
    expect(reason(12)).toBe('not a JSON object');
    expect(reason(13)).toBe('missing user_id');
    expect(reason(214)).toBe(`second ${t + 10} of chapter 102 already has ${MAX_IMPORTED_PER_SECOND} messages (the most one second may hold)`);
    expect(rejects.find((r) => r.line === 2)!.text).toBe('{"chapter_id": 102, "id": 2');

    expect(result.counts).toMatchObject({ imported: 3 + MAX_IMPORTED_PER_SECOND, duplicates: 1, refused: 11 });
    const items = await messageItemsOf(C);
    expect(items.map((i) => i.id)).toEqual([1, 6, ...burst.slice(0, MAX_IMPORTED_PER_SECOND).map((m) => m.id), 400]);
    expect(items.filter((i) => i.create_time === t + 10).map((i) => i.second_seq)).toEqual(Array.from({ length: MAX_IMPORTED_PER_SECOND }, (_, i) => i));
  });
});

describe('a message already in the table', () => {
  it('with other content (sent after the cutover began) is never overwritten: the line is reported as a conflict', async () => {
    const C = 103;
    const messages = history({ firstId: 1, count: 5, firstTime: 1719300000, perSecond: 1 });
    const newer = { chapter_id: C, sk: `msg#${'3'.padStart(16, '0')}`, id: 3, ...student, msg_body: 'sent on the new stack', create_time: 1760000000, origin: '1#x', second_seq: 0 };
    await table.db.send(new PutCommand({ TableName: table.tableName, Item: newer }));
    const file = writeJsonl('conflict.jsonl', messages.map((m) => messageLine(C, m)));
    const result = await runImport(file);
    expect(result.counts).toMatchObject({ imported: 4, present: 0, conflicts: 1 });
    const [conflict] = rejectsOf(file);
    expect(conflict).toMatchObject({ line: 3, kind: 'conflict', reason: `conflict: chapter ${C} already holds id 3 with other content; kept, not overwritten` });
    expect((await messageItemsOf(C)).find((i) => i.id === 3)).toEqual(newer);
  });
});

describe('--part K/N', () => {
  it('splits the file by chapter for runs at once: each part has its own checkpoint and rejects, together they store everything once', async () => {
    const chapters = [110, 111, 112, 113];
    const lines: Line[] = ['not json'];
    for (const chapter of chapters) lines.push(...history({ firstId: 1, count: 20, firstTime: 1719330000, perSecond: 2 }).map((m) => messageLine(chapter, m)), memberLine(chapter, 4));
    const file = writeJsonl('parts.jsonl', lines);
    const results = await Promise.all(
      [0, 1].map((index) => importFile({ file, table: importTable, parallel: 8, out: silentOutput(), part: { index, of: 2 } })),
    );
    expect(results.map((r) => r.checkpoint)).toEqual([`${file}.part-0-of-2.import-checkpoint.json`, `${file}.part-1-of-2.import-checkpoint.json`]);
    expect(results.map((r) => [r.counts.imported, r.counts.members, r.counts.refused])).toEqual([
      [40, 2, 1], // chapters 110 and 112, and the line without a chapter
      [40, 2, 0], // chapters 111 and 113
    ]);
    expect(existsSync(rejectsPath(file, { index: 0, of: 2 }))).toBe(true);
    expect(existsSync(rejectsPath(file, { index: 1, of: 2 }))).toBe(false);
    for (const chapter of chapters) expect(await messageItemsOf(chapter)).toHaveLength(20);
  });
});

describe('DynamoDB pushing back', () => {
  it('(throttling, 500s, resets, lost answers) slows the import down and never fails it: every record stored once', async () => {
    const proxy = await startFaultProxy(table.endpoint);
    const proxied = openImportTable(dynamoDbConfig({ [ENV.dynamodbEndpoint]: proxy.endpoint }), table.tableName);
    try {
      const chapters = [106, 107, 108];
      const lines: Line[] = [];
      for (const chapter of chapters) {
        lines.push(...history({ firstId: 1, count: 150, firstTime: 1719320000, perSecond: 3 }).map((m) => messageLine(chapter, m)));
        for (let u = 1; u <= 120; u++) lines.push(memberLine(chapter, u));
      }
      const file = writeJsonl('faults.jsonl', lines);
      const seed = Date.now();
      proxy.setPlan(randomFaults(0.3, ['throttle', 'provisioned-throughput', 'server-error', 'reset-before', 'lost-response'], { operations: ['PutItem', 'TransactWriteItems'], seed }));
      const result = await importFile({ file, table: proxied, parallel: 32, out: silentOutput() });
      proxy.setPlan(undefined);
      const faults = proxy.counts();
      expect(faults.throttle + faults['provisioned-throughput'] + faults['server-error']).toBeGreaterThan(0);
      expect(result.counts.retries).toBeGreaterThan(0);
      // A put applied whose answer was lost is found "present" when sent again.
      expect(result.counts.imported + result.counts.present).toBe(450);
      expect(result.counts.conflicts).toBe(0);
      for (const chapter of chapters) {
        expect((await messageItemsOf(chapter)).map((i) => i.id)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
        expect(await importTable.memberCount(chapter)).toBe(120);
        expect(await importTable.memberIds(chapter)).toHaveLength(120);
      }
    } finally {
      proxied.destroy();
      await proxy.close();
    }
  });
});

describe('--verify', () => {
  it('passes after an import, and catches a deleted message: prints the chapter and id and exits non-zero', async () => {
    const C = 104;
    const file = writeJsonl('verify.jsonl', [...history({ firstId: 1, count: 30, firstTime: 1719310000, perSecond: 4 }).map((m) => messageLine(C, m)), memberLine(C, 4)]);
    await runImport(file);
    const ok = await cli([file, '--verify']).exited;
    expect(ok.output).toMatch(/holds all 30 messages and 1 member of 1 chapter exactly/);
    expect(ok.code).toBe(0);

    await table.db.send(new DeleteCommand({ TableName: table.tableName, Key: { chapter_id: C, sk: `msg#${'17'.padStart(16, '0')}` } }));
    const bad = await cli([file, '--verify']).exited;
    expect(bad.output).toMatch(/chapter 104: 29 messages in the table, 30 in the file; checksum [0-9a-f]{12}… in the table/);
    expect(bad.output).toMatch(/chapter 104: missing from the table: 17\n/);
    expect(bad.code).toBe(1);
  });
});

describe('an import killed at a random record (SIGKILL)', () => {
  it('resumes from its checkpoint: every valid record stored once, the counts right', async () => {
    const chapters = Array.from({ length: 20 }, (_, i) => 200 + i);
    const random = seededRandom(Date.now());
    const lines: Line[] = [];
    const expected = new Map<number, number[]>();
    // Chapters interleaved (as an export ordered by a global id): 400 messages each, 30 members each.
    for (let i = 0, id = 1, t = 1719400000; i < chapters.length * 400; i++, id++) {
      const chapter = chapters[i % chapters.length];
      if (i % 97 === 0) lines.push(memberLine(chapter, 1 + (i % 30)));
      if (i % 7 === 0) t++;
      lines.push(messageLine(chapter, { id, ...student, msg_body: `m${id}`, create_time: t }));
      expected.set(chapter, [...(expected.get(chapter) ?? []), id]);
      if (i % 1000 === 500) lines.push(`not json ${i}`);
    }
    for (const chapter of chapters) for (let u = 1; u <= 30; u++) lines.push(memberLine(chapter, u));
    const file = writeJsonl('killed.jsonl', lines);
    const refusedLines = lines.filter((l) => typeof l === 'string').length;
    const memberLines = lines.filter((l) => typeof l === 'object' && !('id' in l)).length;

    const first = cli([file, '--parallel', '16']);
    // Kill at a random moment once a checkpoint covers some lines (so the next run resumes from it).
    while (!(existsSync(checkpointPath(file)) && (readCheckpoint(checkpointPath(file))?.lines ?? 0) > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, random() * 1500));
    first.child.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    const atKill = readCheckpoint(checkpointPath(file))!;
    expect(atKill.lines).toBeGreaterThan(0);
    expect(atKill.lines).toBeLessThan(lines.length); // killed mid-way

    const second = await cli([file, '--parallel', '16']).exited;
    expect(second.output).toMatch(new RegExp(`resuming after line ${atKill.lines.toLocaleString('en').replace(/,/g, ' ')}`));
    expect(second.code).toBe(2); // done, with refused lines
    const { counts, lines: done, complete } = readCheckpoint(checkpointPath(file))!;
    expect({ done, complete }).toEqual({ done: lines.length, complete: true });
    const valid = chapters.length * 400;
    // Messages the killed run stored after its last checkpoint are found "present" by the resumed one.
    expect(counts.imported + counts.present).toBe(valid);
    expect(counts).toMatchObject({ conflicts: 0, duplicates: 0, refused: refusedLines, members: memberLines });
    expect(rejectsOf(file)).toHaveLength(refusedLines);

    for (const chapter of chapters) {
      expect((await messageItemsOf(chapter)).map((i) => i.id)).toEqual(expected.get(chapter));
      expect(await importTable.memberCount(chapter)).toBe(30);
    }
    const verified = await verifyFile({ file, table: importTable, out: silentOutput() });
    expect(verified).toMatchObject({ chapters: chapters.length, messages: valid, differences: [] });
  }, 180_000); // a child process that is killed and run again, on an engine that may be busy
});

describe('an imported chapter', () => {
  const C = 105;
  // Ids with gaps (the old backend's ids are kept), bursts up to the per-second cap.
  const messages = [
    ...history({ firstId: 33, count: 300, firstTime: 1719283991, perSecond: 7, gap: 3 }),
    ...history({ firstId: 2000, count: MAX_IMPORTED_PER_SECOND, firstTime: 1719300000, perSecond: MAX_IMPORTED_PER_SECOND }),
    ...history({ firstId: 2200, count: 150, firstTime: 1719300001, perSecond: 1 }),
  ];
  const last = messages[messages.length - 1];

  beforeAll(async () => {
    const file = writeJsonl('paged.jsonl', [memberLine(C, teacher.user_id, teacher), ...messages.map((m) => messageLine(C, m))]);
    expect((await runImport(file)).counts.imported).toBe(messages.length);
  });

  it('is paged through completely by find_group_chat from msg_time=0 and from last_id=0', async () => {
    for (const mode of ['msgTime', 'lastId'] as const) {
      const seen: Message[] = [];
      for (let cursor = 0, pages = 0; ; pages++) {
        expect(pages).toBeLessThan(100);
        const page = await findGroupChat(table.store, { chapterId: C, cursor: mode === 'msgTime' ? { msgTime: cursor } : { lastId: cursor }, limit: 50 });
        seen.push(...page.list);
        if (page.list.length > 0) cursor = mode === 'msgTime' ? page.list[page.list.length - 1].create_time : page.list[page.list.length - 1].id;
        if (!page.has_more) break;
      }
      expect(seen).toEqual(messages);
    }
  });

  it('records its newest message as a send would, so an idle poll knows there is nothing newer', async () => {
    const [presence] = await chapterItems(table, C, 'presence');
    expect(presence).toMatchObject({ newest_id: last.id, newest_time: last.create_time });
  });

  it('continues with a send: the next id after the highest imported one', async () => {
    const sent = await sendGroupChat(table.store, { chapterId: C, sender: teacher, body: 'first on the new stack', clientMsgId: 'after-import-1' });
    expect(sent.id).toBe(last.id + 1);
    expect(sent.create_time).toBeGreaterThan(last.create_time);
    const page = await findGroupChat(table.store, { chapterId: C, cursor: { lastId: last.id }, limit: 50 });
    expect(page.list).toEqual([sent]);
  });
});
