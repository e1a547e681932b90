/**
 * The floor: exactly the DynamoDB requests an idle poll needs, issued through the functions' own
 * store (lambda/data: createChatStore, the very queries find_group_chat runs), in parallel where
 * the handler issues them in parallel, and nothing else (no middy, no parameter parsing, no
 * Powertools, no paging rules, no envelope).
 *
 * What a poll needs depends on the configuration:
 *  - open (IDENTITY_SOURCE=headers): exact = messagesAfterId (the `msg#… presence` Query); legacy =
 *    messagesByCreateTime (the index Query) and memberCount (the presence GetItem);
 *  - jwt (production: the caller must be a member): exact = that Query and isMember (a
 *    GetItem of `member#<uid>`); legacy = the index Query and memberCountAndMembership (one
 *    BatchGetItem of {presence, member#<uid>}).
 * The runner checks that the handler sends these very requests (same operations and parameters),
 * so the page size (limit + 1) and the time range (msg_time + 1) below cannot drift unseen.
 */
import { ENV } from '../../lambda/contract';
import { createChatStore, dynamoDbConfig } from '../../lambda/data';

export type Auth = 'jwt' | 'open';
export type Mode = 'exact' | 'legacy';

/** The store's reads a poll uses (the data entry exports the store, not its port types). */
export type PollStore = Pick<
  ReturnType<typeof createChatStore>,
  'messagesAfterId' | 'messagesByCreateTime' | 'memberCount' | 'memberCountAndMembership' | 'isMember'
>;

export interface FloorPoll {
  chapterId: number;
  /** Exact mode: the id the client holds. */
  lastId?: number;
  /** Legacy mode: the create_time the client holds, and the newest second the poll may serve. */
  msgTime?: number;
  newestSecond?: number;
  /** Page size as the client asks (the handler reads one item more). */
  limit: number;
  /** The caller (jwt configuration); undefined in the open configuration. */
  userId?: number;
}

/** The store as the functions build theirs (createChatStore(dynamoDbConfig())), on `endpoint`. */
export function floorStore(endpoint: string, tableName: string): ReturnType<typeof createChatStore> {
  return createChatStore(dynamoDbConfig({ [ENV.dynamodbEndpoint]: endpoint }), tableName);
}

/** Issues the requests of one idle poll and resolves when all have answered. */
export function floorPoll(store: PollStore, mode: Mode, p: FloorPoll): Promise<unknown> {
  const member = p.userId !== undefined;
  if (mode === 'exact') {
    const query = store.messagesAfterId(p.chapterId, p.lastId!, p.limit + 1);
    return member ? Promise.all([query, store.isMember(p.chapterId, p.userId!, { consistent: false })]) : query;
  }
  return Promise.all([
    store.messagesByCreateTime(p.chapterId, p.msgTime! + 1, p.newestSecond!, p.limit + 1),
    member ? store.memberCountAndMembership(p.chapterId, p.userId!) : store.memberCount(p.chapterId),
  ]);
}
