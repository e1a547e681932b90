/**
 * The API as clients see it: the message fields, the pages and counts the routes answer, the
 * envelope's codes and the limits of the parameters. Types and constants only.
 */

/** Who is calling: the sender of a message, the member who joins or leaves. */
export interface Identity {
  user_id: number;
  user_type: number;
  user_name: string;
}

/** A message as the API returns it: exactly the seed contract's fields, in its order. */
export interface Message extends Identity {
  id: number;
  msg_body: string;
  create_time: number;
}

/** `data` of find_group_chat. */
export interface GroupChatPage {
  member_count: number;
  list: Message[];
  has_more: boolean;
}

/** `data` of join_group_chat and leave_group_chat, and of the admin routes add_members and remove_members. */
export interface MemberCount {
  member_count: number;
}

/** The envelope's `code`, equal to the HTTP status. */
export const ErrorCode = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  Conflict: 409,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  TooManyRequests: 429,
  Internal: 500,
  Unavailable: 503,
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** find_group_chat's `limit`: its default and its largest value. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 200;
/** send_group_chat's `msg_body`, in characters (code points) after trimming. */
export const MAX_MESSAGE_LENGTH = 2000;
/** A user's name (the identity's `user_name`), in characters (code points) after trimming. */
export const MAX_USER_NAME_LENGTH = 64;
/** send_group_chat's `client_msg_id`: 1 to this many letters, digits, '.', '_', ':' or '-'. */
export const MAX_CLIENT_MSG_ID_LENGTH = 64;
/** The admin routes' `user_ids`: at most this many ids per call. */
export const MAX_USER_IDS_PER_CALL = 100;
