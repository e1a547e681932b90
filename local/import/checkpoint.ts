/**
 * The checkpoint beside the import file (`<file>.import-checkpoint.json`): how many lines are fully
 * done — every line before it applied or refused, although writes run in parallel — the bytes they
 * take and their SHA-256, and the counts so far. Written to a temporary file, synced, then renamed
 * over the old one, so a kill at any moment leaves the old checkpoint or the new one, never half of one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

export interface ImportCounts {
  /** Message lines stored by a run. */
  imported: number;
  /** Message lines whose message was in the table already (an earlier or interrupted run). */
  present: number;
  /** Message lines that repeat the chapter's previous message exactly: skipped. */
  duplicates: number;
  /** Message lines whose id the table holds with other content: kept, not overwritten. */
  conflicts: number;
  /** Lines refused by the rules (records.ts). */
  refused: number;
  /** Member lines. */
  members: number;
  /** Members counted in by a run. */
  membersAdded: number;
  /** Requests retried after throttling or a failure (counted per run, not carried over). */
  retries: number;
}

export const zeroCounts = (): ImportCounts => ({ imported: 0, present: 0, duplicates: 0, conflicts: 0, refused: 0, members: 0, membersAdded: 0, retries: 0 });

export interface Checkpoint {
  version: 1;
  /** Lines 1..lines are done. */
  lines: number;
  /** Their bytes, line breaks included: where a resumed run starts reading. */
  bytes: number;
  /** SHA-256 (hex) of those bytes: a resumed run re-reads them and starts over if they changed. */
  sha256: string;
  /** Whether the whole file was done when it was written. */
  complete: boolean;
  counts: ImportCounts;
  updated: string;
}

export const checkpointPath = (file: string, suffix = ''): string => `${file}${suffix}.import-checkpoint.json`;

export function readCheckpoint(path: string): Checkpoint | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const checkpoint = JSON.parse(text) as Checkpoint;
  if (checkpoint.version !== 1 || !Number.isSafeInteger(checkpoint.lines) || typeof checkpoint.sha256 !== 'string') {
    throw new Error(`${path} is not a checkpoint of this importer; move it away to start over`);
  }
  return { ...checkpoint, counts: { ...zeroCounts(), ...checkpoint.counts } };
}

/** Atomically: the old checkpoint or the new one survives any kill. */
export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, `${JSON.stringify(checkpoint, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}
