/**
 * The soak's load (bench/soak/run.ts), per chapter: senders (members for the whole run), churners
 * (join, sometimes send, leave), pollers in exact and legacy mode, a trickle of requests that must
 * be refused; then the drain (the pollers catch up) and the stored logs read back through the API.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Identity, Message } from '../../lambda/contract';
import { seededRandom } from '../../test/support/random';
import { newestServableSecond } from '../../lambda/domain/find-group-chat';
import type { Client } from './client';
import type { Options } from './options';

export interface ChapterLedger {
  chapterId: number;
  /** What sends answered 200 with. */
  accepted: Message[];
  /** Bodies of sends whose outcome the client cannot know (a 5xx or no answer, not retried to a 200). */
  ambiguous: Set<string>;
  members: number;
}

export interface Poller {
  chapterId: number;
  mode: 'last_id' | 'msg_time';
  limit?: number;
  received: Message[];
  polls: number;
  caughtUp: boolean;
}

/** A chapter's log and member_count as the API serves them after the load. */
export interface StoredLog {
  log: Message[];
  memberCount: number | undefined;
}

/** The `limit` of the pollers' pages (undefined: the API's default). */
const PAGE_SIZES = [undefined, 10, 50, 200];

export class Load {
  readonly chapterIds: number[];
  readonly counters = { sends: { made: 0, retried503: 0, ambiguous: 0 }, joins: 0, leaves: 0, refusals: 0 };
  readonly ledgers: Map<number, ChapterLedger>;
  readonly pollers: Poller[] = [];
  private readonly random: () => number;
  /** Members for the whole run: they join before the load starts. */
  private readonly senders: { chapterId: number; user: Identity }[];
  private sequence = 0;
  private loadEndsAt = Infinity;
  private pollerRuns: Promise<void>[] = [];
  private drainReady = false;
  private drainDeadline = Infinity;

  constructor(
    private readonly client: Client,
    private readonly options: Options,
  ) {
    this.random = seededRandom(options.seed);
    this.chapterIds = Array.from({ length: options.chapters }, (_, i) => 1001 + i);
    this.ledgers = new Map(this.chapterIds.map((id) => [id, { chapterId: id, accepted: [], ambiguous: new Set(), members: 0 }]));
    this.senders = this.chapterIds.flatMap((chapterId, c) =>
      Array.from({ length: options.senders }, (_, i) => ({
        chapterId,
        user: { user_id: 10_000 + c * 100 + i, user_type: 1 + (i % 2), user_name: i % 2 ? `Sender ${i}` : `学生 ${i}` },
      })),
    );
  }

  /** The senders join before the load starts; the run breaks when one cannot. */
  async joinSenders(): Promise<void> {
    for (const s of this.senders) {
      if ((await this.membership('join', s.chapterId, s.user)) === undefined) throw new Error(`sender ${s.user.user_id} could not join`);
      this.ledgers.get(s.chapterId)!.members++;
    }
  }

  /** Runs the senders, churners and refusals until `loadStart` + the duration; starts the pollers, which go on until drained. */
  async run(loadStart: number): Promise<void> {
    this.loadEndsAt = loadStart + this.options.durationS * 1000;
    const senderRuns = this.senders.map(({ chapterId, user }) => this.sender(chapterId, user));
    const churnerRuns = this.chapterIds.flatMap((chapterId, c) => Array.from({ length: this.options.churners }, (_, i) => this.churner(chapterId, c, i)));
    const refusalRun = this.refusals();
    const modes: Poller['mode'][] = [...Array(this.options.exactPollers).fill('last_id'), ...Array(this.options.legacyPollers).fill('msg_time')];
    this.pollerRuns = this.chapterIds.flatMap((chapterId) => modes.map((mode, i) => this.poller(chapterId, mode, i)));
    await Promise.all([...senderRuns, ...churnerRuns, refusalRun]);
  }

  /** Waits until every poller caught up (or the drain timeout passed). */
  async drain(): Promise<void> {
    // Every message is servable in legacy mode once its second has passed plus the margin.
    const newestCreateTime = Math.max(Math.floor(Date.now() / 1000), ...[...this.ledgers.values()].flatMap((l) => l.accepted.map((m) => m.create_time)));
    while (newestServableSecond(Date.now()) < newestCreateTime) await sleep(50);
    this.drainReady = true;
    this.drainDeadline = performance.now() + this.options.drainTimeoutS * 1000;
    await Promise.all(this.pollerRuns);
  }

  /** The stored log of each chapter and its member_count, read through the API after the load. */
  async readStoredLogs(): Promise<Map<number, StoredLog>> {
    this.client.counting = false;
    const logs = new Map<number, StoredLog>();
    for (const chapterId of this.chapterIds) {
      const log: Message[] = [];
      let memberCount: number | undefined;
      for (let more = true, lastId = 0, failures = 0; more; ) {
        const answer = await this.client.post('find_group_chat', { id: chapterId, last_id: lastId, limit: 200 });
        if (answer?.status !== 200) {
          this.client.expect(answer, [], `verifier read of ${chapterId}`);
          if (++failures === 20) break; // the log stays short: the checks fail
          await sleep(100);
          continue;
        }
        const page = answer.body.data as { list: Message[]; has_more: boolean; member_count: number };
        log.push(...page.list);
        lastId = page.list.at(-1)?.id ?? lastId;
        more = page.has_more;
        memberCount = page.member_count;
      }
      logs.set(chapterId, { log, memberCount });
    }
    return logs;
  }

  private async sender(chapterId: number, user: Identity): Promise<void> {
    const ledger = this.ledgers.get(chapterId)!;
    await this.pause(this.random() * this.options.sendIntervalMs);
    while (this.loading()) {
      const n = ++this.sequence;
      const body = this.random() < 0.1 ? `soak ${n} ${'长消息 '.repeat(50)}` : `soak ${n} from ${user.user_id}`;
      await this.send(ledger, user, body);
      await this.pause(this.jitter(this.options.sendIntervalMs));
    }
  }

  /** The i-th churner of the c-th chapter. */
  private async churner(chapterId: number, c: number, i: number): Promise<void> {
    const ledger = this.ledgers.get(chapterId)!;
    let round = 0;
    await this.pause(this.random() * 500);
    while (this.loading()) {
      // Seven users take turns, so member items come and go rather than one flipping.
      const user: Identity = { user_id: 50_000 + c * 1000 + i * 100 + (round++ % 7), user_type: 2, user_name: `Churner ${i}` };
      if ((await this.membership('join', chapterId, user)) !== undefined) {
        if (this.random() < 0.5) await this.send(ledger, user, `soak ${++this.sequence} churner ${user.user_id}`);
        await sleep(this.jitter(200));
        await this.membership('leave', chapterId, user);
      }
      await this.pause(this.jitter(300));
    }
  }

  /** Requests that must be refused, so the load is not all happy paths. */
  private async refusals(): Promise<void> {
    const { client, chapterIds } = this;
    const outsider: Identity = { user_id: 99_999, user_type: 2, user_name: 'Outsider' };
    while (this.loading()) {
      const chapterId = chapterIds[Math.floor(this.random() * chapterIds.length)];
      const pick = Math.floor(this.random() * 4);
      if (pick === 0) client.expect(await client.post('find_group_chat', { id: chapterId, last_id: 0, limit: 500 }), [400], 'poll with limit 500');
      if (pick === 1) client.expect(await client.post('send_group_chat', { id: chapterId, msg_body: 'not a member', client_msg_id: 'outsider' }, { as: outsider }), [403], 'send by a non-member');
      if (pick === 2) client.expect(await client.post('send_group_chat', { id: chapterId, msg_body: 'x' }), [401], 'send without identity');
      if (pick === 3) client.expect(await client.post('nope', { id: chapterId }), [404], 'unknown route');
      this.counters.refusals++;
      await this.pause(this.jitter(500));
    }
  }

  /**
   * Keeps its cursor as a client would and follows has_more; stops once caught up after the load
   * (a poll that started when every message was servable answered has_more false).
   */
  private async poller(chapterId: number, mode: Poller['mode'], i: number): Promise<void> {
    // Each mode meets every page size across the chapters.
    const limit = PAGE_SIZES[(i + chapterId) % PAGE_SIZES.length];
    const poller: Poller = { chapterId, mode, limit, received: [], polls: 0, caughtUp: false };
    this.pollers.push(poller);
    let cursor = 0;
    await sleep(this.random() * this.options.pollIntervalMs);
    while (performance.now() < this.drainDeadline) {
      const finalRound = this.drainReady;
      const params = { id: chapterId, [mode]: cursor, ...(limit && { limit }) };
      // Legacy clients send the original form body; exact-mode clients JSON.
      const answer = await this.client.post('find_group_chat', params, { form: mode === 'msg_time' });
      poller.polls++;
      if (answer?.status !== 200) {
        this.client.expect(answer, [], `poll ${chapterId} ${mode}`);
        await sleep(100);
        continue;
      }
      const page = answer.body.data as { list: Message[]; has_more: boolean };
      poller.received.push(...page.list);
      const last = page.list.at(-1);
      if (last) cursor = mode === 'last_id' ? last.id : last.create_time;
      if (page.has_more) continue;
      if (finalRound) {
        poller.caughtUp = true;
        return;
      }
      await sleep(this.jitter(this.options.pollIntervalMs));
    }
  }

  /** Joins or leaves until a 200 (both are idempotent; 503 is retry-safe): the member_count it answered, undefined when it failed. */
  private async membership(action: 'join' | 'leave', chapterId: number, user: Identity): Promise<number | undefined> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const answer = await this.client.post(`${action}_group_chat`, { id: chapterId }, { form: this.random() < 0.5, as: user });
      if (answer?.status === 200) {
        this.counters[action === 'join' ? 'joins' : 'leaves']++;
        return (answer.body.data as { member_count: number }).member_count;
      }
      if (!this.client.expect(answer, [503], `${action} ${chapterId} by ${user.user_id}`)) return undefined;
      await sleep(50 + this.random() * 100);
    }
    return undefined;
  }

  /** One send, with its client_msg_id: retried on 503 (safe: stored once). */
  private async send(ledger: ChapterLedger, user: Identity, body: string): Promise<void> {
    const { client, counters } = this;
    const clientMsgId = `soak-${user.user_id}-${counters.sends.made++}`;
    const params = { id: ledger.chapterId, msg_body: body, client_msg_id: clientMsgId };
    for (let attempt = 0; attempt < 10; attempt++) {
      const answer = await client.post('send_group_chat', params, { form: this.random() < 0.5, as: user });
      if (answer?.status === 200) {
        ledger.accepted.push(answer.body.data as Message);
        return;
      }
      if (answer && answer.status < 500) {
        client.expect(answer, [], `send ${ledger.chapterId} by ${user.user_id}`);
        return; // refused: nothing stored
      }
      // A 5xx or no answer: the message may or may not be stored.
      if (answer?.status !== 503) break;
      counters.sends.retried503++;
      await sleep(50 + this.random() * 150);
    }
    counters.sends.ambiguous++;
    ledger.ambiguous.add(body);
  }

  private loading(): boolean {
    return performance.now() < this.loadEndsAt;
  }

  /** A client's pause, cut short at the end of the load. */
  private pause(ms: number): Promise<void> {
    return sleep(Math.max(0, Math.min(ms, this.loadEndsAt - performance.now())));
  }

  private jitter(mean: number): number {
    return mean * (0.5 + this.random());
  }
}
