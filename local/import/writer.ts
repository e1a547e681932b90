/**
 * Runs the import's requests: many in flight, fairly across chapters, slower when DynamoDB pushes
 * back, never failing on what is worth another attempt.
 *
 * - Up to `limit` requests in flight in all, and up to a per-key cap on one key (a chapter: all
 *   its items live in one partition, which takes about 1 000 write units a second on AWS). Keys take
 *   turns (round robin), so a file sorted by chapter still spreads its writes over the chapters
 *   that are in the read-ahead window.
 * - Additive increase, multiplicative decrease: a retryable failure (throttling, 5xx, a timeout, a
 *   network error) halves the limit (at most once a second) and its key's cap, and the request is
 *   sent again after an exponential, jittered pause; every `limit` successes raise the limit by one,
 *   up to the maximum. Nothing retryable ever fails the import; any other error stops it.
 */

export interface Task {
  /** Requests of one key share its cap (a chapter's messages; a chapter's member batches have cap 1). */
  key: string;
  /** The most of this key's requests in flight at once. */
  cap: number;
  run(): Promise<void>;
}

interface Queued extends Task {
  attempts: number;
}

const BACKOFF_BASE_MS = 50;
const BACKOFF_MAX_MS = 10_000;
const DECREASE_EVERY_MS = 1_000;
/** Say so when nothing succeeded for this long (the import goes on retrying). */
const STALL_WARNING_MS = 30_000;

export class AdaptiveWriter {
  /** Requests allowed in flight now (1 … max). */
  limit: number;
  inFlight = 0;
  retries = 0;
  private queued = 0;
  private backingOff = 0;
  private readonly queues = new Map<string, Queued[]>();
  private ready: string[] = [];
  private readyHead = 0;
  private readonly readySet = new Set<string>();
  private readonly active = new Map<string, number>();
  /** Caps lowered by failures, per key (absent: the task's own cap). */
  private readonly lowered = new Map<string, { cap: number; successes: number; decreasedAt: number }>();
  private successes = 0;
  private decreasedAt = 0;
  private lastSuccessAt = Date.now();
  private lastWarningAt = 0;
  private waiters: (() => void)[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  failure: unknown;

  constructor(
    readonly max: number,
    private readonly isRetryable: (error: unknown) => boolean,
    private readonly warn: (message: string) => void,
  ) {
    this.limit = max;
  }

  /** Requests not finished: queued, in flight or waiting to be retried. */
  get pending(): number {
    return this.queued + this.inFlight + this.backingOff;
  }

  add(task: Task): void {
    if (this.stopped) return;
    const queue = this.queues.get(task.key);
    const entry = { ...task, attempts: 0 };
    if (queue) queue.push(entry);
    else this.queues.set(task.key, [entry]);
    this.queued++;
    this.markReady(task.key, task.cap);
    this.pump();
  }

  /** Resolves when a request finishes (or fails for good). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves when nothing is pending, or once a request failed for good. */
  async drain(): Promise<void> {
    while (this.pending > 0 && this.failure === undefined) await this.changed();
  }

  /** Sends nothing more: drops what is queued or waiting, and resolves once the requests in flight are done. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.queues.clear();
    this.queued = 0;
    this.backingOff = 0;
    this.wake();
    while (this.inFlight > 0) await this.changed();
  }

  private capOf(key: string, cap: number): number {
    return Math.min(cap, this.lowered.get(key)?.cap ?? cap);
  }

  private markReady(key: string, cap: number): void {
    if (this.readySet.has(key) || !this.queues.has(key) || (this.active.get(key) ?? 0) >= this.capOf(key, cap)) return;
    this.readySet.add(key);
    this.ready.push(key);
  }

  private pump(): void {
    while (!this.stopped && this.inFlight < this.limit && this.readyHead < this.ready.length) {
      const key = this.ready[this.readyHead++];
      this.readySet.delete(key);
      const queue = this.queues.get(key);
      if (!queue) continue;
      const task = queue.shift()!;
      this.queued--;
      if (queue.length === 0) this.queues.delete(key);
      this.start(task);
      this.markReady(key, task.cap);
    }
    if (this.readyHead > 4096 && this.readyHead * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
  }

  private start(task: Queued): void {
    this.inFlight++;
    this.active.set(task.key, (this.active.get(task.key) ?? 0) + 1);
    task.run().then(
      () => this.finished(task, undefined),
      (error: unknown) => this.finished(task, error ?? new Error('failed')),
    );
  }

  private finished(task: Queued, error: unknown): void {
    this.inFlight--;
    const active = this.active.get(task.key)! - 1;
    if (active === 0) this.active.delete(task.key);
    else this.active.set(task.key, active);
    if (error === undefined) this.succeeded(task);
    else if (this.stopped) {
      // Stopping: what failed now is simply not done (the checkpoint stays before it).
    } else if (this.isRetryable(error)) this.retry(task, error);
    else {
      this.failure = error;
      void this.stop();
    }
    this.markReady(task.key, task.cap);
    this.pump();
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private succeeded(task: Queued): void {
    this.lastSuccessAt = Date.now();
    if (++this.successes >= this.limit) {
      this.successes = 0;
      this.limit = Math.min(this.max, this.limit + 1);
    }
    const lowered = this.lowered.get(task.key);
    if (lowered && ++lowered.successes >= lowered.cap) {
      lowered.successes = 0;
      lowered.cap++;
      if (lowered.cap >= task.cap) this.lowered.delete(task.key);
    }
  }

  private retry(task: Queued, error: unknown): void {
    this.retries++;
    const now = Date.now();
    if (now - this.decreasedAt >= DECREASE_EVERY_MS) {
      this.decreasedAt = now;
      this.limit = Math.max(1, Math.floor(this.limit / 2));
      this.successes = 0;
    }
    const lowered = this.lowered.get(task.key);
    if (!lowered) this.lowered.set(task.key, { cap: Math.max(1, Math.floor(task.cap / 2)), successes: 0, decreasedAt: now });
    else if (now - lowered.decreasedAt >= DECREASE_EVERY_MS) Object.assign(lowered, { cap: Math.max(1, Math.floor(lowered.cap / 2)), successes: 0, decreasedAt: now });
    if (now - this.lastSuccessAt >= STALL_WARNING_MS && now - this.lastWarningAt >= STALL_WARNING_MS) {
      this.lastWarningAt = now;
      const e = error as { name?: string; message?: string };
      this.warn(
        `no request succeeded for ${Math.round((now - this.lastSuccessAt) / 1000)} s (last: ${e.name ?? 'Error'}: ${e.message ?? ''}); still retrying — Ctrl-C stops, a later run resumes`,
      );
    }
    task.attempts++;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(task.attempts - 1, 10));
    this.backingOff++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.backingOff--;
      const queue = this.queues.get(task.key);
      if (queue) queue.unshift(task);
      else this.queues.set(task.key, [task]);
      this.queued++;
      this.markReady(task.key, task.cap);
      this.pump();
    }, ceiling / 2 + (Math.random() * ceiling) / 2);
    this.timers.add(timer);
  }
}
