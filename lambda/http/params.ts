/**
 * Request parameters, as the original API's clients send them: a JSON body, a form-urlencoded or
 * multipart/form-data body (base64-encoded or not, as API Gateway delivers it) or the query string.
 * Numbers may come as numeric strings. Every violation is a 400 whose message names the parameter
 * and the rule.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ErrorCode, MAX_CLIENT_MSG_ID_LENGTH, MAX_USER_IDS_PER_CALL } from '../contract';
import { ApiError, badRequest } from './errors';
import { readMultipartFields } from './multipart';

/**
 * The largest body read. A 2 000-character message form-encoded takes up to 24 KB (4-byte characters
 * as %XX%XX%XX%XX), or 12 KB as JSON \u escapes; 32 KB holds either with room for the other fields.
 */
export const MAX_BODY_BYTES = 32 * 1024;

/** Every value given for each parameter name, from the query string and the body. */
export type Params = Map<string, unknown[]>;

export async function readParams(
  event: Pick<APIGatewayProxyEventV2, 'headers' | 'body' | 'isBase64Encoded' | 'rawQueryString'>,
): Promise<Params> {
  const params: Params = new Map();
  const add = (name: string, value: unknown) => {
    const values = params.get(name);
    if (values) values.push(value);
    else params.set(name, [value]);
  };
  for (const [name, value] of new URLSearchParams(event.rawQueryString ?? '')) add(name, value);

  const bytes = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  if (bytes.length > MAX_BODY_BYTES) {
    throw new ApiError(ErrorCode.PayloadTooLarge, `request body must be at most ${MAX_BODY_BYTES / 1024} KB`);
  }
  const body = bytes.toString('utf8');
  if (body.trim() === '') return params;
  const contentType = contentTypeOf(event.headers ?? {});
  switch (bodyFormat(mediaType(contentType), body)) {
    case 'json':
      for (const [name, value] of Object.entries(parseJsonObject(body))) add(name, value);
      break;
    case 'form':
      for (const [name, value] of new URLSearchParams(body)) add(name, value);
      break;
    case 'multipart':
      // The raw bytes: a part's text is decoded by its own charset (UTF-8 unless it says otherwise).
      for (const [name, value] of await readMultipartFields(bytes, contentType)) add(name, value);
      break;
  }
  return params;
}

/** The Content-Type header as sent, parameters included (multipart needs its boundary). */
function contentTypeOf(headers: Record<string, string | undefined>): string {
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'content-type') return value ?? '';
  }
  return '';
}

/** `type/subtype`, lower case, without parameters. */
const mediaType = (contentType: string): string => contentType.split(';')[0].trim().toLowerCase();

function bodyFormat(type: string, body: string): 'json' | 'form' | 'multipart' {
  if (type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type)) return 'json';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  if (type === 'multipart/form-data') return 'multipart';
  if (type === '') return body.trimStart().startsWith('{') ? 'json' : 'form';
  throw new ApiError(
    ErrorCode.UnsupportedMediaType,
    'Content-Type must be application/json, application/x-www-form-urlencoded or multipart/form-data',
  );
}

function parseJsonObject(body: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw badRequest('body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('body must be a JSON object');
  return value as Record<string, unknown>;
}

/** The one value of `name`; giving it twice with different values is ambiguous, hence an error. */
function single(params: Params, name: string): unknown {
  const values = params.get(name);
  if (!values) return undefined;
  if (values.some((v) => String(v) !== String(values[0]))) throw badRequest(`${name} is given more than once with different values`);
  return values[0];
}

export interface IntRule {
  min: number;
  max?: number;
}

/** An integer parameter: a JSON integer or a string of decimal digits, within [min, max]. */
export function optionalInt(params: Params, name: string, rule: IntRule): number | undefined {
  const raw = single(params, name);
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badRequest(`${name} must be an integer`);
  if (!Number.isSafeInteger(value)) throw badRequest(`${name} is too large`);
  if (value < rule.min) {
    throw badRequest(rule.min === 0 ? `${name} must not be negative` : `${name} must be at least ${rule.min}`);
  }
  if (rule.max !== undefined && value > rule.max) throw badRequest(`${name} must be at most ${rule.max}`);
  return value;
}

export function requiredInt(params: Params, name: string, rule: IntRule): number {
  const value = optionalInt(params, name, rule);
  if (value === undefined) throw badRequest(`${name} is required`);
  return value;
}

/** A text parameter, trimmed and well-formed (lone surrogates replaced), 1 to `maxLength` characters. */
export function requiredText(params: Params, name: string, maxLength: number): string {
  const raw = single(params, name);
  if (raw === undefined) throw badRequest(`${name} is required`);
  if (typeof raw !== 'string') throw badRequest(`${name} must be a string`);
  const text = raw.toWellFormed().trim();
  if (text === '') throw badRequest(`${name} must not be empty`);
  if ([...text].length > maxLength) throw badRequest(`${name} must be at most ${maxLength} characters`);
  return text;
}

const TOKEN = new RegExp(`^[A-Za-z0-9._:-]{1,${MAX_CLIENT_MSG_ID_LENGTH}}$`);

/** An opaque client-chosen key: 1 to 64 letters, digits, '.', '_', ':' or '-' (a JSON integer is taken as its digits). */
export function optionalToken(params: Params, name: string): string | undefined {
  const raw = single(params, name);
  if (raw === undefined) return undefined;
  const value = typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : raw;
  if (typeof value !== 'string' || !TOKEN.test(value)) {
    throw badRequest(`${name} must be 1 to ${MAX_CLIENT_MSG_ID_LENGTH} letters, digits, '.', '_', ':' or '-'`);
  }
  return value;
}

/** `id`, the chapter (every chapter has one group chat). */
export const chapterIdParam = (params: Params): number => requiredInt(params, 'id', { min: 1 });

const USER_ID_LIST = `user_ids must list 1 to ${MAX_USER_IDS_PER_CALL} user ids: a JSON array, or comma-separated`;

/**
 * `user_ids` of the admin routes: 1 to MAX_USER_IDS_PER_CALL user ids, each an integer of at least 1,
 * as a JSON array (of integers or numeric strings) or, in a form or the query string, one
 * comma-separated list. Repeated ids are taken once.
 */
export function userIdsParam(params: Params): number[] {
  const raw = single(params, 'user_ids');
  if (raw === undefined) throw badRequest('user_ids is required');
  const items: unknown[] = Array.isArray(raw) ? raw : typeof raw === 'string' && raw.trim() !== '' ? raw.split(',') : [];
  if (items.length === 0) throw badRequest(USER_ID_LIST);
  if (items.length > MAX_USER_IDS_PER_CALL) throw badRequest(`user_ids must list at most ${MAX_USER_IDS_PER_CALL} user ids per call, got ${items.length}`);
  const ids = items.map((item, i) => {
    const value = typeof item === 'string' && /^\s*\d+\s*$/.test(item) ? Number(item) : item;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw badRequest(`user_ids: item ${i + 1} is not a user id (an integer of at least 1)`);
    }
    return value;
  });
  return [...new Set(ids)];
}
