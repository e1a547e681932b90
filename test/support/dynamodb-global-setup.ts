/**
 * Jest globalSetup: one DynamoDB engine for the whole run, published to the test workers as
 * TEST_DYNAMODB_ENDPOINT (workers inherit the process.env that globalSetup leaves behind).
 * DYNAMODB_ENDPOINT set: use that engine; otherwise start an in-memory DynamoDB Local (Java 17+).
 */
import { ENV } from '../../lambda/contract';
import { requireAnswer } from '../../local/dynamodb';
import { checkJava, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';

/** Where the test workers find the engine's endpoint. */
export const TEST_ENDPOINT_ENV = 'TEST_DYNAMODB_ENDPOINT';

/** Where the started engine waits for dynamodb-global-teardown.ts (both run in Jest's main process). */
export const dynamoDbLocalHandle = Symbol.for('group-chat.test.dynamodb-local');

type WithHandle = { [dynamoDbLocalHandle]?: DynamoDbLocal };

/** An error Jest prints as just its message, without a stack trace. */
function plain(message: string): Error {
  const error = new Error(message);
  error.stack = message;
  return error;
}

export default async function dynamoDbGlobalSetup(): Promise<void> {
  const external = process.env[ENV.dynamodbEndpoint];
  if (external) {
    await requireAnswer(external).catch((error: Error) => {
      throw plain(error.message);
    });
    process.env[TEST_ENDPOINT_ENV] = external;
    return;
  }
  const java = checkJava();
  if (!java.ok) throw plain(java.message);
  const engine = await startDynamoDbLocal({}).catch((error: Error) => {
    throw plain(error.message); // says what java printed; our stack would add nothing
  });
  (globalThis as WithHandle)[dynamoDbLocalHandle] = engine;
  process.env[TEST_ENDPOINT_ENV] = engine.endpoint;
}
