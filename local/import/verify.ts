/**
 * `--verify`: proves that the table holds what the file says, chapter by chapter. The file's valid
 * records (the same rules as the import: records.ts) give each chapter's number of messages, highest
 * id and a SHA-256 over the messages' canonical JSON in id order; the table's messages with ids up to
 * that highest id (a strongly consistent Query, page by page) give the same three. Messages sent
 * after the import (higher ids) are counted and shown, not compared. Members: every member of the
 * file must be a member, and member_count must equal the member items. Any difference is printed,
 * with the ids concerned, and makes the command exit non-zero.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Message } from '../../lambda/contract';
import { isRetryableImportError, type ImportTable } from '../../lambda/data';
import { readLines } from './lines';
import { count, grouped, type Output } from './progress';
import { ChapterRules, canonicalJson, inPart, parseLine, type Part } from './records';

interface Side {
  count: number;
  maxId: number;
  hash: Hash;
}

interface FileChapter extends Side {
  members: Set<number>;
}

export interface VerifyResult {
  chapters: number;
  messages: number;
  members: number;
  /** Lines the rules refuse: not expected in the table. */
  refused: number;
  /** Messages in the table after the file's highest id of their chapter (sent since). */
  newer: number;
  /** One line per difference. */
  differences: string[];
}

const CHAPTERS_DETAILED = 20;
const IDS_SHOWN = 10;
const MAX_ATTEMPTS = 8;

const newSide = (): Side => ({ count: 0, maxId: 0, hash: createHash('sha256') });

/** The file's valid messages, chapter by chapter, as the import would store them. */
async function* validMessages(
  file: string,
  part: Part | undefined,
  onRefused: () => void = () => undefined,
): AsyncGenerator<{ chapterId: number; message: Message } | { chapterId: number; memberId: number }> {
  const rules = new ChapterRules();
  for await (const batch of readLines(file)) {
    for (const line of batch) {
      const parsed = parseLine(line.text, 0);
      if (!inPart(part, parsed)) continue;
      if (parsed.kind === 'refused') onRefused();
      else if (parsed.kind === 'member') yield { chapterId: parsed.chapterId, memberId: parsed.member.user_id };
      else if (parsed.kind === 'message') {
        const verdict = rules.check(line.number, parsed);
        if (verdict.accepted) yield { chapterId: parsed.chapterId, message: parsed.message };
        else if (!verdict.duplicate) onRefused();
      }
    }
  }
}

async function retrying<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isRetryableImportError(error) || attempt >= MAX_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** attempt));
    }
  }
}

const hex = (side: Side) => side.hash.copy().digest('hex');

export async function verifyFile(options: { file: string; table: ImportTable; out: Output; parallel?: number; part?: Part }): Promise<VerifyResult> {
  const { file, table, out, part } = options;
  const chapters = new Map<number, FileChapter>();
  let refused = 0;
  let messages = 0;
  let members = 0;
  for await (const record of validMessages(file, part, () => refused++)) {
    let chapter = chapters.get(record.chapterId);
    if (!chapter) chapters.set(record.chapterId, (chapter = { ...newSide(), members: new Set() }));
    if ('message' in record) {
      messages++;
      chapter.count++;
      chapter.maxId = record.message.id;
      chapter.hash.update(`${canonicalJson(record.message)}\n`);
    } else if (!chapter.members.has(record.memberId)) {
      members++;
      chapter.members.add(record.memberId);
    }
  }
  out.write(`verify: the file has ${count(messages, 'valid message')} and ${count(members, 'member')} in ${count(chapters.size, 'chapter')}; reading the table…\n`);

  const differences: string[] = [];
  const detailed: number[] = [];
  let newer = 0;
  let checked = 0;
  let lastReport = Date.now();
  const queue = [...chapters.keys()].sort((a, b) => a - b);
  const check = async (chapterId: number) => {
    const expected = chapters.get(chapterId)!;
    const found = newSide();
    if (expected.count > 0) {
      await retrying(async () => {
        Object.assign(found, newSide());
        for await (const page of table.messages(chapterId, expected.maxId)) {
          for (const message of page) {
            found.count++;
            found.maxId = message.id;
            found.hash.update(`${canonicalJson(message)}\n`);
          }
        }
      });
      const after = await retrying(() => table.countMessagesAfter(chapterId, expected.maxId));
      newer += after;
      const wrong: string[] = [];
      if (found.count !== expected.count) wrong.push(`${grouped(found.count)} messages in the table, ${grouped(expected.count)} in the file`);
      if (found.maxId !== expected.maxId) wrong.push(`highest id ${found.maxId} in the table, ${expected.maxId} in the file`);
      if (hex(found) !== hex(expected)) wrong.push(`checksum ${hex(found).slice(0, 12)}… in the table, ${hex(expected).slice(0, 12)}… in the file`);
      if (wrong.length > 0) {
        differences.push(`chapter ${chapterId}: ${wrong.join('; ')}`);
        if (detailed.length < CHAPTERS_DETAILED) detailed.push(chapterId);
      }
    }
    if (expected.members.size > 0) {
      const ids = new Set(await retrying(() => table.memberIds(chapterId)));
      const missing = [...expected.members].filter((id) => !ids.has(id));
      if (missing.length > 0) {
        differences.push(`chapter ${chapterId}: ${missing.length} member(s) of the file are not members: ${missing.slice(0, IDS_SHOWN).join(', ')}${missing.length > IDS_SHOWN ? ', …' : ''}`);
      }
      const memberCount = await retrying(() => table.memberCount(chapterId));
      if (memberCount !== ids.size) differences.push(`chapter ${chapterId}: member_count is ${memberCount} but the chapter has ${ids.size} member items (npm run repair-members)`);
    }
    checked++;
    if (Date.now() - lastReport >= 5_000) {
      lastReport = Date.now();
      out.write(`verify: ${grouped(checked)}/${grouped(chapters.size)} chapters checked, ${differences.length} difference(s) so far\n`);
    }
  };
  const workers = Array.from({ length: Math.min(options.parallel ?? 16, queue.length) }, async () => {
    for (let chapterId = queue.shift(); chapterId !== undefined; chapterId = queue.shift()) await check(chapterId);
  });
  await Promise.all(workers);

  if (detailed.length > 0) differences.push(...(await whichIds(file, part, table, detailed, chapters)));
  return { chapters: chapters.size, messages, members, refused, newer, differences };
}

/** For chapters whose messages differ: which ids are missing from the table, extra in it, or different. */
async function whichIds(file: string, part: Part | undefined, table: ImportTable, chapterIds: number[], chapters: Map<number, FileChapter>): Promise<string[]> {
  const wanted = new Map(chapterIds.map((id) => [id, new Map<number, string>()]));
  for await (const record of validMessages(file, part)) {
    if ('message' in record) wanted.get(record.chapterId)?.set(record.message.id, canonicalJson(record.message));
  }
  const lines: string[] = [];
  const list = (ids: number[]) => `${ids.slice(0, IDS_SHOWN).join(', ')}${ids.length > IDS_SHOWN ? `, … (${ids.length})` : ''}`;
  for (const chapterId of chapterIds) {
    const inFile = wanted.get(chapterId)!;
    const inTable = new Map<number, string>();
    await retrying(async () => {
      inTable.clear();
      for await (const page of table.messages(chapterId, chapters.get(chapterId)!.maxId)) for (const m of page) inTable.set(m.id, canonicalJson(m));
    });
    const missing = [...inFile.keys()].filter((id) => !inTable.has(id));
    const extra = [...inTable.keys()].filter((id) => !inFile.has(id));
    const changed = [...inFile.keys()].filter((id) => inTable.has(id) && inTable.get(id) !== inFile.get(id));
    const parts = [
      missing.length > 0 && `missing from the table: ${list(missing)}`,
      extra.length > 0 && `in the table but not in the file: ${list(extra)}`,
      changed.length > 0 && `other content in the table: ${list(changed)}`,
    ].filter(Boolean);
    if (parts.length > 0) lines.push(`chapter ${chapterId}: ${parts.join('; ')}`);
  }
  return lines;
}
