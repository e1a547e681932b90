/**
 * The floor: exactly the DynamoDB requests an idle poll needs, issued through the functions' own
 * store (lambda/data: createChatStore, the very queries find_group_chat runs), in parallel where
 * the handler issues them in parallel, and nothing else (no middy, no parameter parsing, no
 * Powertools, no paging rules, no envelope).
 *
 * An idle poll (the client holds the newest message) needs the same in both modes:
 *  - open (IDENTITY_SOURCE=headers): chapterHead (an eventually consistent GetItem of `presence`);
 *  - jwt (production: the caller must be a member): chapterHead and isMember (a strongly consistent
 *    GetItem of `member#<uid>`), in parallel.
 * The runner checks that the handler sends these very requests (same operations and parameters).
 */
import { ENV } from '../../lambda/contract';
import { createChatStore, dynamoDbConfig } from '../../lambda/data';

export type Auth = 'jwt' | 'open';
export type Mode = 'exact' | 'legacy';

/** The store's reads a poll uses (the data entry exports the store, not its port types). */
export type PollStore = Pick<ReturnType<typeof createChatStore>, 'chapterHead' | 'isMember'>;

export interface FloorPoll {
  chapterId: number;
  /** The caller (jwt configuration); undefined in the open configuration. */
  userId?: number;
}

/** The store as the functions build theirs (createChatStore(dynamoDbConfig())), on `endpoint`. */
export function floorStore(endpoint: string, tableName: string): ReturnType<typeof createChatStore> {
  return createChatStore(dynamoDbConfig({ [ENV.dynamodbEndpoint]: endpoint }), tableName);
}

/** Issues the requests of one idle poll and resolves when all have answered. */
export function floorPoll(store: PollStore, p: FloorPoll): Promise<unknown> {
  const head = store.chapterHead(p.chapterId);
  return p.userId === undefined ? head : Promise.all([head, store.isMember(p.chapterId, p.userId)]);
}
