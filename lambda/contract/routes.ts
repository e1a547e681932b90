/**
 * The API's routes: path, handler source, who may call and the DynamoDB actions the handler uses.
 * The CDK stack builds one function per route from this list (with exactly these actions and this
 * authorization), and the local server serves the same handlers on the same paths.
 */

import { DEADLINES, type Deadline } from './table';

/**
 * Who may call a route:
 * - `user`: an app user, as the stack authorizes users — a verified JWT (the JWT authorizer), or in
 *   an open demo the x-user-* headers. The handler acts for that user.
 * - `iam`: an AWS principal allowed `execute-api:Invoke` on the route, with a SigV4-signed request
 *   (API Gateway's IAM authorization): the course platform's backend. The request carries no user,
 *   and the handler reads no user identity (no x-user-* headers, no token claims).
 */
export type RouteAuthorization = 'user' | 'iam';

export interface RouteSpec {
  /** Construct id of the function, e.g. `FindGroupChat`. */
  readonly id: string;
  readonly method: 'POST';
  readonly path: string;
  readonly authorization: RouteAuthorization;
  /** Handler source, relative to the project root; it exports `handler`. */
  readonly entry: string;
  /** Exactly the DynamoDB actions the handler issues, granted on the table only. */
  readonly dynamodbActions: readonly string[];
  /** The handler queries the `by_create_time` index, so its actions are granted on the index too. */
  readonly queriesCreateTimeIndex: boolean;
  /**
   * The handler writes through TransactWriteItems (IAM checks the actions of its items, listed in
   * `dynamodbActions`; CloudWatch reports its throttles and errors as the TransactWriteItems operation).
   */
  readonly transactWrites?: boolean;
  /** Its time limits: the DynamoDB client's, the handler's answer, the Lambda timeout (DEADLINES in ./table). */
  readonly deadline: Deadline;
  /**
   * The share of the stage's API throttle rate, in %, this route is sized for. With the deadline it
   * sizes the function's reserved concurrency (Little's law: lib/concurrency.ts); beyond that Lambda
   * throttles the route, so a slow database cannot take the account's concurrency.
   */
  readonly trafficPercent: number;
}

export const ROUTES: readonly RouteSpec[] = [
  {
    id: 'FindGroupChat',
    method: 'POST',
    path: '/message/find_group_chat',
    authorization: 'user',
    entry: 'lambda/handlers/find-group-chat.ts',
    // GetItem: the chapter's head (presence), membership; Query: messages (table, or the index in legacy mode).
    dynamodbActions: ['dynamodb:Query', 'dynamodb:GetItem'],
    queriesCreateTimeIndex: true,
    deadline: DEADLINES.poll,
    trafficPercent: 90,
  },
  {
    id: 'SendGroupChat',
    method: 'POST',
    path: '/message/send_group_chat',
    authorization: 'user',
    entry: 'lambda/handlers/send-group-chat.ts',
    // GetItem: membership, reservation, id holder; Query: newest message; PutItem: message,
    // reservation; UpdateItem: moving a reservation, recording the newest message.
    dynamodbActions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    queriesCreateTimeIndex: false,
    deadline: DEADLINES.write,
    trafficPercent: 5,
  },
  {
    id: 'JoinGroupChat',
    method: 'POST',
    path: '/message/join_group_chat',
    authorization: 'user',
    entry: 'lambda/handlers/join-group-chat.ts',
    // One TransactWriteItems: PutItem of the member, UpdateItem of the count; GetItem: the count after.
    dynamodbActions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem'],
    queriesCreateTimeIndex: false,
    transactWrites: true,
    deadline: DEADLINES.write,
    trafficPercent: 1,
  },
  {
    id: 'LeaveGroupChat',
    method: 'POST',
    path: '/message/leave_group_chat',
    authorization: 'user',
    entry: 'lambda/handlers/leave-group-chat.ts',
    // One TransactWriteItems: DeleteItem of the member, UpdateItem of the count; GetItem: the count after.
    dynamodbActions: ['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem'],
    queriesCreateTimeIndex: false,
    transactWrites: true,
    deadline: DEADLINES.write,
    trafficPercent: 1,
  },
  {
    id: 'AdminAddMembers',
    method: 'POST',
    path: '/admin/add_members',
    authorization: 'iam',
    entry: 'lambda/handlers/admin-add-members.ts',
    // TransactWriteItems of ≤ 99 members each: PutItem of the members, UpdateItem of the count; GetItem: the count after.
    dynamodbActions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem'],
    queriesCreateTimeIndex: false,
    transactWrites: true,
    deadline: DEADLINES.write,
    trafficPercent: 1,
  },
  {
    id: 'AdminRemoveMembers',
    method: 'POST',
    path: '/admin/remove_members',
    authorization: 'iam',
    entry: 'lambda/handlers/admin-remove-members.ts',
    // TransactWriteItems of ≤ 99 members each: DeleteItem of the members, UpdateItem of the count; GetItem: the count after.
    dynamodbActions: ['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem'],
    queriesCreateTimeIndex: false,
    transactWrites: true,
    deadline: DEADLINES.write,
    trafficPercent: 1,
  },
];

/**
 * The function behind the `$default` route: requests no route matched (404, or 405 on a known
 * path). It uses no table. "Not routed" is its one name: construct id, file and function.
 */
export const NOT_ROUTED = {
  id: 'NotRouted',
  entry: 'lambda/handlers/not-routed.ts',
  // It answers at once, touching nothing: the shortest deadline, and a sliver of the traffic (mistakes, scanners).
  deadline: DEADLINES.poll,
  trafficPercent: 1,
} as const;

/** The route with this id (a handler names its own, to take its deadline from here); throws on an unknown id. */
export function routeNamed(id: string): RouteSpec {
  const route = ROUTES.find((r) => r.id === id);
  if (!route) throw new Error(`no route ${id} in ROUTES`);
  return route;
}
