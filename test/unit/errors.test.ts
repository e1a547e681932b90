/** Which failures a client may safely retry (503) and which are ours (500). */
import { isUnavailableError } from '../../lambda/data/errors';
import { ChatBusyError, MembershipManagedError, NotMemberError } from '../../lambda/domain/errors';
import { INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE, answerFor, badRequest } from '../../lambda/http/errors';
import { StorageUnavailableError } from '../../lambda/ports/errors';

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

describe('answerFor: the status of every error, chosen in one place', () => {
  it.each([
    ['a bad parameter', badRequest('id is required'), { code: 400, msg: 'id is required', alert: false }],
    ['a non-member', new NotMemberError('send'), { code: 403, msg: 'only members of this chapter may send', alert: false }],
    [
      'a join or leave while the course platform manages membership',
      new MembershipManagedError(),
      { code: 403, msg: 'membership is managed by the course platform: members follow course enrolment and cannot join or leave themselves', alert: false },
    ],
    ['a contended chat (logged and counted: every 503 is)', new ChatBusyError(), { code: 503, msg: 'the chat is too busy right now, retry shortly', alert: true }],
    ['the storage failing', new StorageUnavailableError(new Error('x')), { code: 503, msg: UNAVAILABLE_MESSAGE, alert: true }],
    ["middy's early timeout", Object.assign(new Error('[AbortError]: The operation was aborted.'), { name: 'TimeoutError' }), { code: 503, msg: UNAVAILABLE_MESSAGE, alert: true }],
    ['a bug', new TypeError('x is undefined'), { code: 500, msg: INTERNAL_MESSAGE, alert: true }],
  ])('%s', (_, error, answer) => expect(answerFor(error)).toEqual(answer));
});
