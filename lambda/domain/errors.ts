/** The outcomes the domain refuses a request with. Only the HTTP layer (lambda/http/errors.ts) turns them into status codes. */

/** The caller is not a member of the chapter, and the action is for members only. */
export class NotMemberError extends Error {
  constructor(readonly action: 'read' | 'send' | 'subscribe') {
    super(`only members of this chapter may ${action === 'read' ? 'read it' : action === 'send' ? 'send' : 'subscribe to it'}`);
    this.name = 'NotMemberError';
  }
}

/** Too many writers on one chapter: the send gave up claiming an id, having stored nothing. */
export class ChatBusyError extends Error {
  constructor() {
    super('the chat is too busy right now, retry shortly');
    this.name = 'ChatBusyError';
  }
}

/**
 * The course platform decides who is a member (the stack's `membership` is `managed`): a user cannot
 * join or leave a chapter's chat on their own.
 */
export class MembershipManagedError extends Error {
  constructor() {
    super('membership is managed by the course platform: members follow course enrolment and cannot join or leave themselves');
    this.name = 'MembershipManagedError';
  }
}

/** The same client_msg_id came with another message body: a client bug, refused so it is not hidden. */
export class ClientMsgIdReusedError extends Error {
  constructor() {
    super('client_msg_id was already used for a different message; use a new client_msg_id for a new message');
    this.name = 'ClientMsgIdReusedError';
  }
}

/** The storage failed on every attempt and on the check whether the message landed: a retry with the same client_msg_id is safe and settles it. */
export class SendUnsettledError extends Error {
  constructor() {
    super('the message could not be confirmed; retry with the same client_msg_id');
    this.name = 'SendUnsettledError';
  }
}
