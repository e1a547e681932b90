/** Which failures a client may safely retry (503) and which are ours (500). */
import { isUnavailableError } from '../../lambda/data/errors';

describe('isUnavailableError', () => {
  it.each([
    ['DynamoDB throttling', { name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } }],
    ['request-rate throttling', { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }],
    ['a DynamoDB 500', { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }],
    ['any 5xx from the service', { name: 'Whatever', $metadata: { httpStatusCode: 503 } }],
    ['an SDK timeout', { name: 'TimeoutError' }],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])('is true for %s', (_, error) => expect(isUnavailableError(error)).toBe(true));

  it.each([
    ['a validation error', { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }],
    ['a missing table', { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }],
    ['a programming error', new TypeError('x is undefined')],
    ['a non-error', 'boom'],
    ['null', null],
  ])('is false for %s', (_, error) => expect(isUnavailableError(error)).toBe(false));
});
