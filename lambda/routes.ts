/**
 * The API's routes: path, handler source and the DynamoDB actions the handler uses. The CDK stack
 * builds one function per route from this list (with exactly these actions), and the local server
 * serves the same handlers on the same paths.
 */
export interface RouteSpec {
  /** Construct id of the function, e.g. `FindGroupChat`. */
  readonly id: string;
  readonly method: 'POST';
  readonly path: string;
  /** Handler source, relative to the project root; it exports `handler`. */
  readonly entry: string;
  /** Exactly the DynamoDB actions the handler issues; granted on the table and its index only. */
  readonly dynamodbActions: readonly string[];
}

export const ROUTES: readonly RouteSpec[] = [
  {
    id: 'FindGroupChat',
    method: 'POST',
    path: '/message/find_group_chat',
    entry: 'lambda/handlers/find-group-chat.ts',
    dynamodbActions: ['dynamodb:Query', 'dynamodb:GetItem'],
  },
];
