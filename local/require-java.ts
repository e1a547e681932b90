/**
 * `npm test` and `npm start` need a Java 17+ runtime for DynamoDB Local, unless DYNAMODB_ENDPOINT
 * names another engine: without one, stop at once with one line that says what to install.
 */
import { ENV } from '../lambda/contract';
import { checkJava } from './dynamodb-local';

if (!process.env[ENV.dynamodbEndpoint]) {
  const java = checkJava();
  if (!java.ok) {
    console.error(java.message);
    process.exit(1);
  }
}
