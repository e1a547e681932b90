/**
 * What the domain needs from storage, as interfaces (ports). The data layer (lambda/data/) implements
 * them on DynamoDB; the domain never sees keys, items or the SDK. A failure of the storage itself
 * (throttling, 5xx, timeouts) is raised as a StorageUnavailableError (./errors).
 */
import type { Identity, Message } from '../contract';

/** A message as the log holds it: the API fields plus what the send protocol keeps beside them. */
export interface LoggedMessage extends Message {
  /** Which send wrote it: `<user_id>#<client_msg_id>`, or a one-off token. Never returned. */
  origin?: string;
  /** How many earlier messages share its create_time (bounds a legacy page). Never returned. */
  second_seq?: number;
}

/**
 * A member of a chapter's chat. Who joined themselves is known by name and type; a member the course
 * platform added (admin routes) by id only.
 */
export interface Member extends Pick<Identity, 'user_id'>, Partial<Omit<Identity, 'user_id'>> {
  joined_at: number;
}

/**
 * What a poll may still read, in DynamoDB read units (one unit: a strongly consistent read of up to
 * 4 KB): each read of the page spends from it, and a read is only sent when its worst case fits.
 */
export interface ReadBudget {
  remaining: number;
}

/** One read of a page: at most `maxItems` messages, within the budget. */
export interface PageChunk {
  /** Oldest first. */
  messages: Message[];
  /** Where to continue; absent when the range is exhausted. */
  nextKey: PageKey | undefined;
  /** The budget cannot pay for one more message of the largest size: the page must end here. */
  exhausted: boolean;
}

/** Opaque position in a paged read. */
export type PageKey = Record<string, unknown>;

/** The presence item's view of a chapter, as a poll reads it first (eventually consistent: one cheap read). */
export interface ChapterHead {
  memberCount: number;
  /** The newest message's id and create_time as the senders recorded them; undefined when not recorded (read the log). */
  newestId: number | undefined;
  newestTime: number | undefined;
}

export interface MembershipReads {
  /** Strongly consistent: someone who has just joined is a member at once. */
  isMember(chapterId: number, userId: number): Promise<boolean>;
}

/** What a poll reads. */
export interface PollReads extends MembershipReads {
  /** member_count and the newest message recorded (one eventually consistent read of a small item). */
  chapterHead(chapterId: number): Promise<ChapterHead>;
  /** Messages with id > afterId, oldest first (strongly consistent). */
  messagesAfterId(chapterId: number, afterId: number, maxItems: number, budget: ReadBudget, startKey?: PageKey): Promise<PageChunk>;
  /** Messages with fromTime ≤ create_time ≤ toTime, in create_time order (strongly consistent). */
  messagesByCreateTime(chapterId: number, fromTime: number, toTime: number, maxItems: number, budget: ReadBudget, startKey?: PageKey): Promise<PageChunk>;
}

/** The message log a send appends to, and the reservations that make a retried send store once. */
export interface MessageLog {
  /** The chapter's newest message (strongly consistent), or undefined when it has none. */
  lastMessage(chapterId: number): Promise<LoggedMessage | undefined>;
  /** The message with this id (strongly consistent). */
  message(chapterId: number, id: number): Promise<LoggedMessage | undefined>;
  /**
   * Records the message as the chapter's newest unless a newer one is recorded (idempotent). A poll
   * reads the log only when the recorded newest is past what the client holds, so a send answers
   * only once its message is recorded.
   */
  recordNewest(chapterId: number, message: Pick<Message, 'id' | 'create_time'>): Promise<void>;
  /** Stores the message unless its id is taken: the claim of the id. One attempt, no retry below. */
  putMessageIfAbsent(chapterId: number, message: LoggedMessage): Promise<boolean>;
  /** The id a send with this client_msg_id is trying to store its message at, if it reserved one. */
  reservedId(chapterId: number, userId: number, clientMsgId: string): Promise<number | undefined>;
  /** Reserves `msgId` for the send unless it reserved one already: true when reserved. Kept until `expiresAt` (epoch s). */
  reserveIdIfAbsent(chapterId: number, userId: number, clientMsgId: string, msgId: number, expiresAt: number): Promise<boolean>;
  /** Moves the send's reservation from one candidate id to the next, only if nobody moved it first. */
  moveReservation(chapterId: number, userId: number, clientMsgId: string, from: number, to: number): Promise<boolean>;
}

/**
 * Who is a member, and `member_count`: every change of members changes the count in the same
 * transaction, so the count always equals the members and costs the same at any chapter size.
 */
export interface Membership extends MembershipReads {
  /** Adds those of `members` who are not members yet, counting them in; returns how many it added. */
  addMembers(chapterId: number, members: readonly Member[]): Promise<number>;
  /** Removes those of `userIds` who are members, counting them out; returns how many it removed. */
  removeMembers(chapterId: number, userIds: readonly number[]): Promise<number>;
  /** `member_count`, strongly consistent: the count a change answers with. */
  currentMemberCount(chapterId: number): Promise<number>;
}

/** Everything the functions need from storage. */
export interface ChatStore extends PollReads, MessageLog, Membership {
  /** The same store, whose requests are aborted when `signal` aborts (the request's deadline): nothing goes on after the answer. */
  withSignal(signal: AbortSignal): ChatStore;
  /** Closes the connections (local tools and tests; a function keeps its store for life). */
  destroy(): void;
}
