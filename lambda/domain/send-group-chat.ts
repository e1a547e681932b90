/**
 * Sending: every accepted message gets the next dense per-chapter id, exactly once, in order.
 *
 * The writer reads the chapter's newest message n (strongly consistent) and puts message n+1 with
 * `attribute_not_exists(sk)`: id n+1 can only exist once n exists, so a reader that sees n+1 also
 * sees n, and create_time (= max(now, create_time of n)) never decreases as the id grows. On a lost
 * race it re-reads and tries the next id. Every put carries the send's `origin`, so a put that was
 * applied but whose answer was lost (the SDK's retry then fails its condition) is recognised as ours.
 *
 * With a `client_msg_id`, the candidate id lives in a reservation item that every attempt of that
 * send shares (a client's retry of the whole call included), and it moves to a new id only after
 * the old one was seen holding another message. So all attempts of one send race for the same key
 * and at most one message is ever stored for it; the retry returns that message.
 */
import type { Identity, Message } from '../contract';
import type { LoggedMessage, MembershipReads, MessageLog } from '../ports/chat-store';
import { StorageUnavailableError } from '../ports/errors';
import { ChatBusyError, ClientMsgIdReusedError, NotMemberError, SendUnsettledError } from './errors';

/**
 * At most this many messages share one create_time; more spill into the next second. A legacy page
 * never ends inside a second, so this bounds it: a whole second of the largest messages, and the
 * next message that proves the second ended, fit in one poll's read ceiling (POLL_READ_UNITS).
 */
export const MAX_MESSAGES_PER_SECOND = 25;
/**
 * Puts of a message before the send gives up with a retry-safe 503. Each lost put means another
 * message got in, so with k writers racing on one chapter a send loses about (1 - 1/k)^n of the
 * time: for 8 writers saturating one chapter, 1 in 600 000 sends with n = 100.
 */
export const MAX_CLAIM_ATTEMPTS = 100;
/** Puts that fail with a transient error (throttling, 5xx, timeout) before the send answers 503. */
export const MAX_FAILED_PUTS = 5;
/** How long a send reservation is kept (DynamoDB TTL): a client's retry must come within this. */
export const RESERVATION_TTL_SECONDS = 24 * 60 * 60;

export interface SendGroupChat {
  chapterId: number;
  sender: Identity;
  body: string;
  /** The client's key for this message: every attempt and retry of one send carries the same. */
  clientMsgId: string;
}

export type MessageWriter = MessageLog & MembershipReads;

/** create_time and second_seq of the message that follows `previous`, stamped at `nowMs`. */
export function stampAfter(previous: LoggedMessage | undefined, nowMs: number): { create_time: number; second_seq: number } {
  const now = Math.floor(nowMs / 1000);
  if (!previous || now > previous.create_time) return { create_time: now, second_seq: 0 };
  const seq = (previous.second_seq ?? 0) + 1;
  return seq < MAX_MESSAGES_PER_SECOND
    ? { create_time: previous.create_time, second_seq: seq }
    : { create_time: previous.create_time + 1, second_seq: 0 };
}

export async function sendGroupChat(store: MessageWriter, send: SendGroupChat, clock: () => number = Date.now): Promise<Message> {
  const { chapterId, sender, clientMsgId } = send;
  const origin = `${sender.user_id}#${clientMsgId}`;
  const reservedId = () => store.reservedId(chapterId, sender.user_id, clientMsgId);
  /** The message a holder of an id is, if this send stored it; a different body under the same key is refused. */
  const ours = (holder: LoggedMessage | undefined): Message | undefined => {
    if (holder?.origin !== origin) return undefined;
    if (holder.msg_body !== send.body) throw new ClientMsgIdReusedError();
    return withoutLogFields(holder);
  };
  /** A stored message is answered only once it is recorded as the chapter's newest (polls read the log past that). */
  const recorded = async (message: Message): Promise<Message> => {
    await store.recordNewest(chapterId, message);
    return message;
  };
  const [member, reservedAtStart, newest] = await Promise.all([
    store.isMember(chapterId, sender.user_id),
    reservedId(),
    store.lastMessage(chapterId),
  ]);
  if (!member) throw new NotMemberError('send');

  /** The newest message known to this send: the one its next candidate id follows. */
  let last = newest;
  /** The candidate id this send has reserved, once it has. */
  let reserved = reservedAtStart;
  let failedPuts = 0;
  let puts = 0;
  try {
    for (let steps = 0; puts < MAX_CLAIM_ATTEMPTS && steps < 4 * MAX_CLAIM_ATTEMPTS; steps++) {
      const next = (last?.id ?? 0) + 1;
      if (reserved === undefined) {
        const expiresAt = Math.floor(clock() / 1000) + RESERVATION_TTL_SECONDS;
        const created = await store.reserveIdIfAbsent(chapterId, sender.user_id, clientMsgId, next, expiresAt);
        reserved = created ? next : await reservedId();
        if (!created) continue;
      } else if (reserved < next) {
        // The reserved id is taken: by an earlier attempt of this send, or by another message.
        const stored = ours(reserved === last?.id ? last : await store.message(chapterId, reserved));
        if (stored) return await recorded(stored);
        const moved = await store.moveReservation(chapterId, sender.user_id, clientMsgId, reserved, next);
        reserved = moved ? next : await reservedId();
        if (!moved) continue;
      } else if (reserved > next) {
        // Another attempt of this send saw a newer head of the log.
        last = await store.lastMessage(chapterId);
        continue;
      }

      puts++;
      const { create_time, second_seq } = stampAfter(last, clock()); // right before the put, on every attempt
      const message: Message = { id: next, ...sender, msg_body: send.body, create_time };
      // The newest is recorded beside the put, not after it: a record for a put that loses its race or
      // fails only makes polls read the log once more.
      const [put, record] = await Promise.allSettled([
        store.putMessageIfAbsent(chapterId, { ...message, origin, second_seq }),
        store.recordNewest(chapterId, message),
      ]);
      if (put.status === 'fulfilled' && put.value) return record.status === 'fulfilled' ? message : await recorded(message);
      if (put.status === 'rejected') {
        // One attempt per put (a retry must carry a fresh stamp): a transient failure is retried here.
        if (!(put.reason instanceof StorageUnavailableError)) throw put.reason;
        if (++failedPuts >= MAX_FAILED_PUTS) return await recorded(await settle(store, chapterId, next, ours));
      }
      // Lost the race, failed, or won it and lost the answer: the holder of `next` tells which.
      await jitter(puts);
      // Re-read the head after the pause: following only the holder of `next` would crawl one id at
      // a time behind writers that kept going, and starve.
      const [holder, head] = await Promise.all([store.message(chapterId, next), store.lastMessage(chapterId)]);
      const stored = ours(holder);
      if (stored) return await recorded(stored);
      last = head;
    }
  } catch (error) {
    // A put was sent, so the message may be stored: the answer must say how to find out.
    if (error instanceof StorageUnavailableError && puts > 0) throw new SendUnsettledError();
    throw error;
  }
  throw new ChatBusyError();
}

/**
 * Before a send gives up on a storage that keeps failing, it settles whether its last put landed
 * after all (a strongly consistent read, with the SDK's retries): the answer is the stored message,
 * or an error that says nothing of this send is stored unseen — the message, if the put lands
 * later, is found by a retry with the same client_msg_id.
 */
async function settle(store: MessageWriter, chapterId: number, id: number, ours: (holder: LoggedMessage | undefined) => Message | undefined): Promise<Message> {
  let holder: LoggedMessage | undefined;
  try {
    holder = await store.message(chapterId, id);
  } catch (error) {
    if (error instanceof StorageUnavailableError) throw new SendUnsettledError();
    throw error;
  }
  const stored = ours(holder);
  if (stored) return stored;
  throw new SendUnsettledError();
}

/** The message as the API returns it: the log's own fields stay in the log. */
function withoutLogFields({ origin: _origin, second_seq: _secondSeq, ...message }: LoggedMessage): Message {
  return message;
}

/** Full jitter, growing from 10 ms to 160 ms: spreads writers that keep colliding on one chapter. */
function jitter(attempt: number): Promise<void> {
  const ceiling = 10 * 2 ** Math.min(attempt - 1, 4);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
