/**
 * The import file's records and the rules they must follow (events/import-example.jsonl shows the
 * format; docs/operations.md describes it). Pure: the importer and --verify apply the same rules,
 * so both agree on which records are valid.
 *
 * One JSON object per line. A line with `id`, `msg_body` or `create_time` is a message:
 *   {"chapter_id":1,"id":33,"user_id":1,"user_type":3,"user_name":"…","msg_body":"…","create_time":1719283991}
 * any other line is a member: {"chapter_id":1,"user_id":4} with optional `user_type`, `user_name`
 * and `joined_at` (Unix seconds; default: when the import started). Other fields are ignored.
 *
 * Within a chapter, messages must come in increasing id order, and create_time must never go back
 * as the id grows (chapters may be interleaved: only each chapter's own order matters). At most
 * MAX_IMPORTED_PER_SECOND messages of a chapter may share a second; the excess is refused: moving a
 * message to another second would change the create_time clients already hold (legacy polls page by
 * it). The old backend had no bound of its own, so this one is looser than what sends write
 * (MAX_IMPORTED_PER_SECOND): a legacy page serves such a second whole, past the poll's read ceiling,
 * and its answer stays far below Lambda's 6 MB (docs/design.md, Polling).
 */
import { MAX_MESSAGE_LENGTH, type Message } from '../../lambda/contract';
import type { ImportedMember } from '../../lambda/data';

/** The most messages one second of imported history may hold: 200 of the largest make an answer of about 1.7 MB. */
export const MAX_IMPORTED_PER_SECOND = 200;

export interface MessageRecord {
  kind: 'message';
  chapterId: number;
  message: Message;
}

export interface MemberRecord {
  kind: 'member';
  chapterId: number;
  member: ImportedMember;
}

export type ParsedLine = MessageRecord | MemberRecord | { kind: 'refused'; reason: string; chapterId?: number } | { kind: 'blank' };

/**
 * One of `of` parts of the file, by chapter (`chapter_id % of === index`), for running several
 * imports of one file at once (one per core): each part has its own checkpoint and rejects file.
 * Lines without a chapter id (not JSON, say) belong to part 0.
 */
export interface Part {
  index: number;
  of: number;
}

/** `K/N` → part K of N (0 ≤ K < N ≤ 64). */
export function parsePart(text: string): Part | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const [index, of] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  return of >= 1 && of <= 64 && index >= 0 && index < of ? { index, of } : undefined;
}

export function inPart(part: Part | undefined, line: ParsedLine): boolean {
  if (!part || line.kind === 'blank') return true;
  const chapterId = line.chapterId;
  return chapterId === undefined ? part.index === 0 : chapterId % part.of === part.index;
}

/** What the part adds to the names of the files beside the import file. */
export const partSuffix = (part: Part | undefined): string => (part ? `.part-${part.index}-of-${part.of}` : '');

/** Times at or above this are milliseconds, not seconds (find_group_chat refuses such a msg_time too). */
const MAX_SECONDS = 1e11;

class RecordError extends Error {}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function integer(record: Record<string, unknown>, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = record[name];
  if (value === undefined || value === null) throw new RecordError(`missing ${name}`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value >= max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max - 1}`;
    throw new RecordError(`${name} must be ${range} (got ${describe(value)})`);
  }
  return value;
}

function text(record: Record<string, unknown>, name: string): string {
  const value = record[name];
  if (value === undefined || value === null) throw new RecordError(`missing ${name}`);
  if (typeof value !== 'string') throw new RecordError(`${name} must be a string (got ${describe(value)})`);
  return value;
}

/** Parses and checks one line on its own (the per-chapter rules are ChapterRules'). */
export function parseLine(line: string, defaultJoinedAt: number): ParsedLine {
  if (line.trim() === '') return { kind: 'blank' };
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (error) {
    return { kind: 'refused', reason: `not JSON: ${(error as Error).message}` };
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return { kind: 'refused', reason: 'not a JSON object' };
  const r = record as Record<string, unknown>;
  const known = Number.isSafeInteger(r.chapter_id) ? (r.chapter_id as number) : undefined;
  try {
    const chapterId = integer(r, 'chapter_id', 1);
    if ('id' in r || 'msg_body' in r || 'create_time' in r) {
      const message: Message = {
        id: integer(r, 'id', 1),
        user_id: integer(r, 'user_id', 0),
        user_type: integer(r, 'user_type', 0),
        user_name: text(r, 'user_name'),
        msg_body: text(r, 'msg_body'),
        create_time: integer(r, 'create_time', 0, MAX_SECONDS),
      };
      const length = [...message.msg_body].length;
      if (length > MAX_MESSAGE_LENGTH) throw new RecordError(`msg_body has ${length} characters, more than ${MAX_MESSAGE_LENGTH}`);
      return { kind: 'message', chapterId, message };
    }
    const member: ImportedMember = {
      user_id: integer(r, 'user_id', 1),
      ...(r.user_type !== undefined && { user_type: integer(r, 'user_type', 0) }),
      ...(r.user_name !== undefined && { user_name: text(r, 'user_name') }),
      joined_at: r.joined_at === undefined ? defaultJoinedAt : integer(r, 'joined_at', 0, MAX_SECONDS),
    };
    return { kind: 'member', chapterId, member };
  } catch (error) {
    if (error instanceof RecordError) return { kind: 'refused', reason: error.message, ...(known !== undefined && { chapterId: known }) };
    throw error;
  }
}

/** A message as --verify's checksum and the duplicate check see it: the six API fields, in the API's order. */
export function canonicalJson(m: Message): string {
  return JSON.stringify({ id: m.id, user_id: m.user_id, user_type: m.user_type, user_name: m.user_name, msg_body: m.msg_body, create_time: m.create_time });
}

interface ChapterState {
  lastId: number;
  lastTime: number;
  lastLine: number;
  lastJson: string;
  /** Messages accepted so far in the second `lastTime`. */
  inSecond: number;
}

export type Verdict = { accepted: true; secondSeq: number } | { accepted: false; duplicate: true } | { accepted: false; duplicate: false; reason: string };

/**
 * The per-chapter rules, applied in file order. Keeps one small state per chapter (the last accepted
 * message), so its memory grows with the number of chapters, not of messages.
 */
export class ChapterRules {
  private readonly chapters = new Map<number, ChapterState>();

  /** Accepts the message (with its second_seq: its position within its second) or says why not. */
  check(line: number, record: MessageRecord): Verdict {
    const { chapterId, message } = record;
    const state = this.chapters.get(chapterId);
    if (state) {
      if (message.id === state.lastId) {
        if (canonicalJson(message) === state.lastJson) return { accepted: false, duplicate: true };
        return { accepted: false, duplicate: false, reason: `duplicate id ${message.id} in chapter ${chapterId} with other content than line ${state.lastLine}` };
      }
      if (message.id < state.lastId) {
        return {
          accepted: false,
          duplicate: false,
          reason: `id ${message.id} comes after id ${state.lastId} (line ${state.lastLine}) in chapter ${chapterId}: each chapter's messages must be in increasing id order`,
        };
      }
      if (message.create_time < state.lastTime) {
        return {
          accepted: false,
          duplicate: false,
          reason: `create_time ${message.create_time} is before create_time ${state.lastTime} of id ${state.lastId} (line ${state.lastLine}) in chapter ${chapterId}: a later id must not be older`,
        };
      }
      if (message.create_time === state.lastTime && state.inSecond >= MAX_IMPORTED_PER_SECOND) {
        return {
          accepted: false,
          duplicate: false,
          reason: `second ${message.create_time} of chapter ${chapterId} already has ${MAX_IMPORTED_PER_SECOND} messages (the most one second may hold)`,
        };
      }
    }
    const inSecond = state && state.lastTime === message.create_time ? state.inSecond : 0;
    this.chapters.set(chapterId, { lastId: message.id, lastTime: message.create_time, lastLine: line, lastJson: canonicalJson(message), inSecond: inSecond + 1 });
    return { accepted: true, secondSeq: inSecond };
  }

  /** Each chapter's newest accepted message: its id and create_time. */
  *newest(): Generator<[chapterId: number, message: { id: number; create_time: number }]> {
    for (const [chapterId, state] of this.chapters) yield [chapterId, { id: state.lastId, create_time: state.lastTime }];
  }
}
