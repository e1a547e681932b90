/**
 * A push client that follows the resume rule (docs/design.md, "Push"), for tests and the bench:
 * - on every (re)connect it first connects, then calls the exact poll (`last_id`) per chapter until
 *   `has_more` is false;
 * - it keeps the last id per chapter and drops pushed messages with an id ≤ it;
 * - a pushed id above last + 1 (a gap: a push missed) triggers an exact poll.
 * Each chapter's pushes and polls take turns (one queue per chapter), so its log holds every message
 * exactly once, in id order, whatever arrives twice or out of turn.
 */
import WebSocket from 'ws';
import { LOCAL_PUSH_PATH, PUSH_QUERY, type GroupChatPage, type Identity, type Message, type PushFrame } from '../lambda/contract';

export type Poll = (chapterId: number, lastId: number) => Promise<Pick<GroupChatPage, 'list' | 'has_more'>>;

export interface PushClientOptions {
  /** The HTTP API, e.g. `http://127.0.0.1:3000` (the exact poll; locally also the push endpoint's host). */
  apiUrl: string;
  /** The WebSocket URL without query; default: the local server's (`ws://<apiUrl host>/push`). */
  pushUrl?: string;
  chapters: number[];
  /** Header identity (local runs, open demos) or a token (deployed). */
  identity: Identity | { token: string };
  /** Last ids already held, per chapter (a client resuming). */
  lastIds?: Record<number, number>;
  /** Overrides the exact poll (default: POST message/find_group_chat). */
  poll?: Poll;
  /** Called for each message added to the log. */
  onMessage?: (chapterId: number, message: Message, via: 'push' | 'poll') => void;
}

/** The handshake was answered with an HTTP status instead of an upgrade (403: not a member or no identity). */
export class PushRefusedError extends Error {
  constructor(readonly status: number) {
    super(`push connection refused with HTTP ${status}`);
    this.name = 'PushRefusedError';
  }
}

const PAGE = 200;
const POLL_ATTEMPTS = 5;

export class PushClient {
  /** Per chapter: every message held, in id order. */
  readonly log = new Map<number, Message[]>();
  readonly unsubscribed = new Set<number>();
  /** Failures of the work a push started (a catch-up poll that failed). */
  readonly errors: unknown[] = [];
  readonly stats = { pushed: 0, polled: 0, duplicatesDropped: 0, gaps: 0, polls: 0, framesAfterUnsubscribed: 0, pongs: 0 };
  private socket?: WebSocket;
  private readonly queues = new Map<number, Promise<void>>();
  private readonly lastIds = new Map<number, number>();
  private pongWaiters: Array<() => void> = [];
  private readonly poll: Poll;

  constructor(private readonly options: PushClientOptions) {
    for (const chapterId of options.chapters) {
      this.log.set(chapterId, []);
      this.lastIds.set(chapterId, options.lastIds?.[chapterId] ?? 0);
    }
    this.poll = options.poll ?? this.pollOverHttp;
  }

  lastId(chapterId: number): number {
    return this.lastIds.get(chapterId) ?? 0;
  }

  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Connects, then catches up on every chapter by the exact poll. Rejects with PushRefusedError when the handshake is refused. */
  async connect(): Promise<void> {
    const socket = new WebSocket(this.url());
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('unexpected-response', (_req, res) => {
        res.resume();
        reject(new PushRefusedError(res.statusCode ?? 0));
        socket.terminate();
      });
      socket.once('error', reject);
    });
    this.socket = socket;
    socket.on('error', () => undefined); // a dropped connection surfaces as 'close'
    socket.on('message', (data) => this.onFrame(JSON.parse(data.toString('utf8')) as PushFrame));
    await Promise.all(this.options.chapters.map((chapterId) => this.inTurn(chapterId, () => this.catchUp(chapterId))));
  }

  /** Closes the connection cleanly (a `$disconnect` follows). */
  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.close();
    });
  }

  /** Cuts the connection without a closing handshake, as a lost network does. */
  drop(): void {
    this.socket?.terminate();
    this.socket = undefined;
  }

  async reconnect(): Promise<void> {
    await this.close();
    await this.connect();
  }

  /** The keep-alive: resolves on the pong. */
  ping(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.socket) return reject(new Error('not connected'));
      this.pongWaiters.push(resolve);
      this.socket.send(JSON.stringify({ action: 'ping' }));
    });
  }

  /** Resolves once every chapter's queued work (pushes, catch-ups) has run. */
  async settled(): Promise<void> {
    await Promise.all([...this.queues.values()]);
  }

  private url(): string {
    const base = this.options.pushUrl ?? `${this.options.apiUrl.replace(/^http/, 'ws')}${LOCAL_PUSH_PATH}`;
    const query = new URLSearchParams({ [PUSH_QUERY.chapters]: this.options.chapters.join(',') });
    const identity = this.options.identity;
    if ('token' in identity) query.set(PUSH_QUERY.token, identity.token);
    else {
      query.set(PUSH_QUERY.userId, String(identity.user_id));
      query.set(PUSH_QUERY.userType, String(identity.user_type));
      query.set(PUSH_QUERY.userName, identity.user_name);
    }
    return `${base}?${query}`;
  }

  private onFrame(frame: PushFrame): void {
    if (frame.type === 'pong') {
      this.stats.pongs += 1;
      this.pongWaiters.shift()?.();
      return;
    }
    const chapterId = frame.chapter_id;
    if (!this.log.has(chapterId)) return;
    this.inTurn(chapterId, async () => {
      if (this.unsubscribed.has(chapterId)) {
        this.stats.framesAfterUnsubscribed += 1;
        return;
      }
      if (frame.type === 'unsubscribed') {
        this.unsubscribed.add(chapterId);
        return;
      }
      const last = this.lastId(chapterId);
      if (frame.message.id <= last) this.stats.duplicatesDropped += 1;
      else if (frame.message.id === last + 1) this.accept(chapterId, frame.message, 'push');
      else {
        // A gap: a push was missed (or is late). The exact poll fills it, this message included.
        this.stats.gaps += 1;
        await this.catchUp(chapterId);
      }
    }).catch((error: unknown) => this.errors.push(error));
  }

  /** Runs `task` after everything queued for the chapter (pushes and polls of one chapter never interleave). */
  private inTurn(chapterId: number, task: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(chapterId) ?? Promise.resolve()).then(task);
    this.queues.set(
      chapterId,
      next.catch(() => undefined),
    );
    return next;
  }

  /** The exact poll from the last id held until has_more is false. */
  private async catchUp(chapterId: number): Promise<void> {
    for (;;) {
      this.stats.polls += 1;
      const page = await this.poll(chapterId, this.lastId(chapterId));
      // The exact poll answers every id after last_id, in order (a chapter's first id need not be 1: imported history).
      for (const message of page.list) if (message.id > this.lastId(chapterId)) this.accept(chapterId, message, 'poll');
      if (!page.has_more) return;
    }
  }

  private accept(chapterId: number, message: Message, via: 'push' | 'poll'): void {
    this.log.get(chapterId)!.push(message);
    this.lastIds.set(chapterId, message.id);
    this.stats[via === 'push' ? 'pushed' : 'polled'] += 1;
    this.options.onMessage?.(chapterId, message, via);
  }

  private readonly pollOverHttp: Poll = async (chapterId, lastId) => {
    const identity = this.options.identity;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if ('token' in identity) headers.authorization = `Bearer ${identity.token}`;
    else Object.assign(headers, { 'x-user-id': String(identity.user_id), 'x-user-type': String(identity.user_type), 'x-user-name': encodeURIComponent(identity.user_name) });
    // A 503 is retry-safe (the storage was busy): tried again after a pause, a few times.
    for (let attempt = 1; ; attempt += 1) {
      const response = await fetch(`${this.options.apiUrl}/message/find_group_chat`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ id: chapterId, last_id: lastId, limit: PAGE }),
      });
      const body = (await response.json()) as { code: number; msg: string; data: GroupChatPage | null };
      if (body.code === 200 && body.data) return body.data;
      if (body.code !== 503 || attempt === POLL_ATTEMPTS) throw new Error(`find_group_chat answered ${body.code}: ${body.msg}`);
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  };
}
