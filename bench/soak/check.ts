/**
 * The soak's verdicts, kept free of I/O so a test can feed them broken inputs (bench/soak/run.ts runs
 * the load; test/integration/soak-smoke.test.ts runs both).
 */

import type { Message } from '../../lambda/contract';

export interface DeliveryVerdict {
  ok: boolean;
  received: number;
  /** Accepted messages (or stored messages of the chapter's log) the reader does not hold. */
  missing: number;
  /** Messages held more than once (same id or same body). */
  duplicates: number;
  /** Places where an id is not greater than the one before it. */
  outOfOrder: number;
  /** Messages neither accepted nor from a send whose outcome the client could not know. */
  unexpected: number;
  /** Messages with an accepted id whose fields differ from what the send answered. */
  mismatched: number;
  /** A few examples, for the report. */
  examples: string[];
}

const FIELDS = ['id', 'user_id', 'user_type', 'user_name', 'msg_body', 'create_time'] as const;

/**
 * Exactly once, in id order, nothing else: `received` must hold every `accepted` message (and every
 * message of `log`, when given) once, with increasing ids, each equal to what its send answered.
 * A message that was not accepted is allowed only when its body is one of `ambiguousBodies` (a send
 * that answered 5xx or never answered, whose outcome the client cannot know) — and then at most once.
 */
export function checkDelivery(
  received: readonly Message[],
  accepted: readonly Message[],
  ambiguousBodies: ReadonlySet<string> = new Set(),
  log?: readonly Message[],
): DeliveryVerdict {
  const examples: string[] = [];
  const note = (text: string) => {
    if (examples.length < 5) examples.push(text);
  };
  const acceptedById = new Map(accepted.map((m) => [m.id, m]));
  const seenIds = new Set<number>();
  const seenBodies = new Set<string>();
  let duplicates = 0;
  let outOfOrder = 0;
  let unexpected = 0;
  let mismatched = 0;
  received.forEach((message, i) => {
    if (seenIds.has(message.id) || seenBodies.has(message.msg_body)) {
      duplicates++;
      note(`duplicate id ${message.id}`);
    }
    seenIds.add(message.id);
    seenBodies.add(message.msg_body);
    if (i > 0 && message.id <= received[i - 1].id) {
      outOfOrder++;
      note(`id ${message.id} after id ${received[i - 1].id}`);
    }
    const sent = acceptedById.get(message.id);
    if (!sent) {
      if (!ambiguousBodies.has(message.msg_body)) {
        unexpected++;
        note(`id ${message.id} was never accepted`);
      }
    } else if (FIELDS.some((field) => sent[field] !== message[field])) {
      mismatched++;
      note(`id ${message.id} differs from the send's answer`);
    }
  });
  const expectedIds = new Set([...acceptedById.keys(), ...(log ?? []).map((m) => m.id)]);
  let missing = 0;
  for (const id of expectedIds) {
    if (!seenIds.has(id)) {
      missing++;
      note(`id ${id} missing`);
    }
  }
  return {
    ok: missing + duplicates + outOfOrder + unexpected + mismatched === 0,
    received: received.length,
    missing,
    duplicates,
    outOfOrder,
    unexpected,
    mismatched,
    examples,
  };
}

/** Ids of a chapter are dense: the stored log must be exactly 1..n. */
export function isDense(log: readonly Message[]): boolean {
  return log.every((m, i) => m.id === i + 1);
}

export interface RssSample {
  /** Milliseconds since the load started. */
  t: number;
  /** Resident set size in bytes. */
  rss: number;
}

/** The smallest RSS sampled in [from, to] (NaN when none): RSS saws with GC; a leak lifts the troughs. */
export function windowMin(samples: readonly RssSample[], from: number, to: number): number {
  const inWindow = samples.filter((s) => s.t >= from && s.t <= to).map((s) => s.rss);
  return inWindow.length ? Math.min(...inWindow) : NaN;
}

export interface GrowthVerdict {
  ok: boolean;
  /** False when the run is too short for a meaningful comparison: the check is then skipped, not failed. */
  applicable: boolean;
  before: number;
  after: number;
  growthPct: number;
  limitPct: number;
}

/**
 * RSS growth after the warm-up: `before` and `after` are the lowest RSS measured right after a forced
 * full GC in the window that follows the warm-up and in the load's last window. Below `limitPct`
 * passes; a missing figure fails.
 */
export function growthVerdict(before: number, after: number, limitPct: number, applicable: boolean): GrowthVerdict {
  const growthPct = ((after - before) / before) * 100;
  return { ok: !applicable || (Number.isFinite(growthPct) && growthPct < limitPct), applicable, before, after, growthPct, limitPct };
}
