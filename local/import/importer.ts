/**
 * The import: reads the file once, in order, checks each record (records.ts), and writes the valid
 * ones through the AdaptiveWriter (writer.ts) — messages one conditional put each, members in
 * batches of ≤ 99 per chapter through addMembers. Refused lines and conflicts go to
 * `<file>.rejects.jsonl` with their line number and reason; the rest go on.
 *
 * Resuming: the checkpoint (checkpoint.ts) says how many lines are fully done. A resumed run re-reads
 * those lines only to rebuild the per-chapter rules' state (and to check their SHA-256: a file that
 * changed before that point is imported again from its first line, which is safe: a stored message is
 * found "present", a member is not added twice), writes nothing for them, and goes on after them.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import type { Message } from '../../lambda/contract';
import { isRetryableImportError, type ImportTable, type ImportedMember } from '../../lambda/data';
import { checkpointPath, readCheckpoint, writeCheckpoint, zeroCounts, type Checkpoint, type ImportCounts } from './checkpoint';
import { readLines, type Line } from './lines';
import { Progress, grouped, type Output } from './progress';
import { ChapterRules, inPart, parseLine, partSuffix, type Part } from './records';
import { AdaptiveWriter } from './writer';

/** addMembers' transaction size: 99 members and the presence item. */
const MEMBERS_PER_BATCH = 99;
/** The most lines read ahead of the first line not done (bounds memory; spans many chapters of a sorted file). */
const WINDOW_LINES = 20_000;
/** Requests of one chapter in flight at once: its partition takes ~1 000 write units/s on AWS. */
export const PER_CHAPTER_IN_FLIGHT = 8;
const CHECKPOINT_EVERY_MS = 1_000;
/** Conflicts printed as they happen; the rest only go to the rejects file. */
const CONFLICTS_SHOWN = 10;

export interface ImportOptions {
  file: string;
  table: ImportTable;
  /** Requests in flight at most. */
  parallel: number;
  out: Output;
  /** Aborting stops the import cleanly: requests in flight finish, the checkpoint is written. */
  signal?: AbortSignal;
  /** joined_at of members whose record has none (Unix seconds); default: now. */
  joinedAt?: number;
  /** Only this part of the file's chapters (records.ts' Part); default: all of them. */
  part?: Part;
}

export interface ImportResult {
  counts: ImportCounts;
  /** Lines of the file done (all of them unless stopped). */
  lines: number;
  /** Where this run started (0: from the beginning). */
  resumedAfter: number;
  /** Why it started from the beginning despite a checkpoint. */
  restartReason?: string;
  /** It was stopped before the end of the file. */
  stopped: boolean;
  /** Records this run wrote or refused, and the seconds it took after the re-read. */
  records: number;
  seconds: number;
  checkpoint: string;
  rejects: string;
}

export const rejectsPath = (file: string, part?: Part): string => `${file}${partSuffix(part)}.rejects.jsonl`;

/**
 * Lines 1..done are done. Lines finish out of order (writes run in parallel); a line's effect on the
 * counts is applied only when every line before it is done too, so the checkpoint's counts are exactly
 * those of its lines, and a resumed run, which does the later lines again, counts each line once.
 */
type Effect = (counts: ImportCounts) => void;

class DoneLines {
  private readonly finished = new Map<number, Effect | undefined>();
  private readonly waiting: Line[] = [];
  private head = 0;

  constructor(
    public done: number,
    public bytes: number,
    readonly hash: Hash,
    readonly counts: ImportCounts,
  ) {}

  /** A line was read (lines arrive in order). */
  read(line: Line): void {
    this.waiting.push(line);
  }

  finish(number: number, effect?: Effect): void {
    this.finished.set(number, effect);
    while (this.head < this.waiting.length && this.finished.has(this.waiting[this.head].number)) {
      const line = this.waiting[this.head++];
      this.finished.get(line.number)?.(this.counts);
      this.finished.delete(line.number);
      this.done = line.number;
      this.bytes += line.raw.length;
      this.hash.update(line.raw);
    }
    if (this.head > 10_000 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** The rejects file: one JSON line per refused line or conflict, written synchronously (a checkpoint never gets ahead of it). */
class Rejects {
  private fd: number | undefined;
  constructor(readonly path: string) {}

  add(entry: Record<string, unknown>): void {
    this.fd ??= openSync(this.path, 'a');
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Keeps the entries of lines 1..lines of an earlier run's rejects file (later lines are done again). */
async function keepRejectsBefore(path: string, lines: number): Promise<void> {
  const kept: string[] = [];
  try {
    for await (const batch of readLines(path)) {
      for (const { text } of batch) {
        if (text.trim() === '') continue;
        try {
          if ((JSON.parse(text) as { line: number }).line <= lines) kept.push(text);
        } catch {
          // A line torn by a kill: its line is done again.
        }
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  unlinkSync(path);
  if (kept.length > 0) {
    const rejects = new Rejects(path);
    for (const text of kept) rejects.add(JSON.parse(text) as Record<string, unknown>);
    rejects.close();
  }
}

/** Re-reads lines 1..checkpoint.lines to rebuild the rules' state; false when those bytes are not the ones done. */
async function replay(file: string, checkpoint: Checkpoint, rules: ChapterRules, hash: Hash, part: Part | undefined): Promise<boolean> {
  let bytes = 0;
  let number = 0;
  outer: for await (const batch of readLines(file)) {
    for (const line of batch) {
      if (line.number > checkpoint.lines) break outer;
      number = line.number;
      bytes += line.raw.length;
      hash.update(line.raw);
      const parsed = parseLine(line.text, 0);
      if (parsed.kind === 'message' && inPart(part, parsed)) rules.check(line.number, parsed);
    }
  }
  return number === checkpoint.lines && bytes === checkpoint.bytes && hash.copy().digest('hex') === checkpoint.sha256;
}

export async function importFile(options: ImportOptions): Promise<ImportResult> {
  const { file, table, out, signal, part } = options;
  const joinedAt = options.joinedAt ?? Math.floor(Date.now() / 1000);
  const totalBytes = statSync(file).size;
  const checkpointFile = checkpointPath(file, partSuffix(part));
  const rejects = new Rejects(rejectsPath(file, part));

  // Where to start: after the checkpoint's lines if they are still the file's first lines.
  let rules = new ChapterRules();
  let hash = createHash('sha256');
  let counts = zeroCounts();
  let start = { lines: 0, bytes: 0 };
  let restartReason: string | undefined;
  const previous = readCheckpoint(checkpointFile);
  if (previous) {
    out.write(`resuming after line ${grouped(previous.lines)} (${checkpointFile}): re-reading them to rebuild the checks…\n`);
    if (await replay(file, previous, rules, hash, part)) {
      start = { lines: previous.lines, bytes: previous.bytes };
      counts = { ...previous.counts, retries: 0 };
      await keepRejectsBefore(rejects.path, previous.lines);
    } else {
      restartReason = `the file's first ${grouped(previous.lines)} lines are not the ones the checkpoint recorded (the file changed)`;
      out.write(`${restartReason}: importing it again from line 1 (what is stored already is found "present", never written twice)\n`);
      rules = new ChapterRules();
      hash = createHash('sha256');
    }
  }
  if (start.lines === 0) await keepRejectsBefore(rejects.path, 0);

  const progress = new Progress(out, totalBytes, start.bytes);
  const done = new DoneLines(start.lines, start.bytes, hash, counts);
  const writer = new AdaptiveWriter(options.parallel, isRetryableImportError, (message) => progress.log(`warning: ${message}`));
  const memberBatches = new Map<number, { members: ImportedMember[]; lines: number[] }>();
  let records = 0;
  let conflictsShown = 0;
  let lastCheckpointAt = Date.now();
  let lastCheckpointLines = -1;

  const finish = (number: number, effect?: Effect, record = true) => {
    if (record) records++;
    done.finish(number, effect);
  };

  const checkpoint = (complete: boolean) => {
    if (done.done === lastCheckpointLines && !complete) return;
    lastCheckpointLines = done.done;
    writeCheckpoint(checkpointFile, {
      version: 1,
      lines: done.done,
      bytes: done.bytes,
      sha256: done.hash.copy().digest('hex'),
      complete,
      counts: { ...counts, retries: counts.retries + writer.retries },
      updated: new Date().toISOString(),
    });
  };

  const tick = () => {
    progress.update({ bytesDone: done.bytes, linesDone: done.done, records, inFlight: writer.inFlight, limit: writer.limit });
    if (Date.now() - lastCheckpointAt >= CHECKPOINT_EVERY_MS) {
      lastCheckpointAt = Date.now();
      checkpoint(false);
      // A partial member batch must not hold the checkpoint back for long.
      flushMembers();
    }
  };
  const ticker = setInterval(tick, 200);
  const onAbort = () => void writer.stop();
  signal?.addEventListener('abort', onAbort);

  const putMessage = (line: Line, chapterId: number, message: Message, secondSeq: number) =>
    writer.add({
      key: String(chapterId),
      cap: PER_CHAPTER_IN_FLIGHT,
      run: async () => {
        const result = await table.putMessage(chapterId, { ...message, second_seq: secondSeq });
        if (result.outcome === 'imported') finish(line.number, (c) => c.imported++);
        else if (result.outcome === 'present') finish(line.number, (c) => c.present++);
        else {
          const reason = `conflict: chapter ${chapterId} already holds id ${message.id} with other content; kept, not overwritten`;
          rejects.add({ line: line.number, kind: 'conflict', reason, text: line.text, table: result.existing });
          if (conflictsShown++ < CONFLICTS_SHOWN) progress.log(`line ${line.number}: ${reason}`);
          else if (conflictsShown === CONFLICTS_SHOWN + 1) progress.log(`more conflicts: see ${rejects.path}`);
          finish(line.number, (c) => c.conflicts++);
        }
      },
    });

  function flushMembers(chapterId?: number): void {
    for (const [id, batch] of chapterId === undefined ? memberBatches : [[chapterId, memberBatches.get(chapterId)!] as const]) {
      memberBatches.delete(id);
      writer.add({
        key: `members#${id}`,
        cap: 1, // one chapter's transactions all update its presence item: one at a time
        run: async () => {
          const added = await table.addMembers(id, batch.members);
          // The batch's lines are all done together: its count goes with its last line.
          const lastLine = batch.lines[batch.lines.length - 1];
          for (const number of batch.lines) finish(number, (c) => (c.members++, number === lastLine && (c.membersAdded += added)));
        },
      });
    }
  }

  const refuse = (line: Line, reason: string) => {
    rejects.add({ line: line.number, kind: 'refused', reason, text: line.text });
    finish(line.number, (c) => c.refused++);
  };

  let stopped = false;
  try {
    reading: for await (const batch of readLines(file, start.bytes, start.lines + 1)) {
      for (const line of batch) {
        while (done.done + WINDOW_LINES <= line.number || writer.pending >= WINDOW_LINES) {
          if (signal?.aborted || writer.failure !== undefined) break reading;
          if (memberBatches.size > 0) flushMembers();
          await writer.changed();
        }
        if (signal?.aborted || writer.failure !== undefined) break reading;
        done.read(line);
        const parsed = parseLine(line.text, joinedAt);
        if (parsed.kind === 'blank' || !inPart(part, parsed)) finish(line.number, undefined, false);
        else if (parsed.kind === 'refused') refuse(line, parsed.reason);
        else if (parsed.kind === 'member') {
          const pending = memberBatches.get(parsed.chapterId) ?? { members: [], lines: [] };
          memberBatches.set(parsed.chapterId, pending);
          pending.members.push(parsed.member);
          pending.lines.push(line.number);
          if (pending.members.length >= MEMBERS_PER_BATCH) flushMembers(parsed.chapterId);
        } else {
          const verdict = rules.check(line.number, parsed);
          if (verdict.accepted) putMessage(line, parsed.chapterId, parsed.message, verdict.secondSeq);
          else if (verdict.duplicate) finish(line.number, (c) => c.duplicates++);
          else refuse(line, verdict.reason);
        }
      }
      // Let timers (progress, checkpoint) and finished requests run between chunks.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (signal?.aborted || writer.failure !== undefined) {
      stopped = true;
      if (writer.failure === undefined) progress.log(`stopping: waiting for ${writer.inFlight} request(s) in flight…`);
      await writer.stop();
    } else {
      flushMembers();
      await writer.drain();
      // Every line is done: record each chapter's newest message, as a send would (polls read the log
      // only past it). A run that stops before this leaves it to the run that resumes.
      if (writer.failure === undefined && done.bytes === totalBytes) {
        for (const [chapterId, newest] of rules.newest()) writer.add({ key: String(chapterId), cap: 1, run: () => table.recordNewest(chapterId, newest) });
        await writer.drain();
      }
      if (writer.failure !== undefined) {
        stopped = true;
        await writer.stop();
      }
    }
  } finally {
    clearInterval(ticker);
    signal?.removeEventListener('abort', onAbort);
    rejects.close();
    progress.end();
  }
  const complete = !stopped && done.bytes === totalBytes;
  checkpoint(complete);
  counts.retries += writer.retries;
  if (writer.failure !== undefined) {
    const error = writer.failure as Error;
    throw Object.assign(new Error(`${error.name}: ${error.message} (lines 1–${done.done} are done; run again to resume)`), { cause: error });
  }
  return {
    counts,
    lines: done.done,
    resumedAfter: start.lines,
    restartReason,
    stopped,
    records,
    seconds: progress.seconds,
    checkpoint: checkpointFile,
    rejects: rejects.path,
  };
}
