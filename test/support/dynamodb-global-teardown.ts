/** Jest globalTeardown: stops the DynamoDB Local that dynamodb-global-setup.ts started, if any. */
import { dynamoDbLocalHandle } from './dynamodb-global-setup';
import type { DynamoDbLocal } from '../../local/dynamodb-local';

export default async function dynamoDbGlobalTeardown(): Promise<void> {
  const holder = globalThis as { [dynamoDbLocalHandle]?: DynamoDbLocal };
  const engine = holder[dynamoDbLocalHandle];
  delete holder[dynamoDbLocalHandle];
  await engine?.close();
}
