/** The outcomes the domain refuses a request with. Only the HTTP layer (lambda/http/errors.ts) turns them into status codes. */

/** The caller is not a member of the chapter, and the action is for members only. */
export class NotMemberError extends Error {
  constructor(readonly action: 'read' | 'send') {
    super(`only members of this chapter may ${action === 'read' ? 'read it' : 'send'}`);
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
