/** Calling a route's handler the way API Gateway does: an HTTP API payload-format-2.0 event. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { lambdaContext } from '../../local/lambda-context';
import { apiGatewayEvent } from '../../local/api-gateway-event';
import type { LambdaHandler } from '../../local/handlers';

export interface Envelope<T = Record<string, unknown>> {
  code: number;
  msg: string;
  data: T | null;
}

export interface ApiResponse<T> {
  status: number;
  headers: Record<string, string>;
  body: Envelope<T>;
}

export type RequestShape =
  | { json: unknown }
  | { form: string; base64?: boolean }
  | { query: string }
  | { raw: string; contentType?: string };

export function eventFor(path: string, shape: RequestShape, method = 'POST'): APIGatewayProxyEventV2 {
  if ('query' in shape) return apiGatewayEvent({ method, url: `${path}?${shape.query}` });
  if ('json' in shape) {
    return apiGatewayEvent({ method, url: path, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(shape.json)) });
  }
  if ('form' in shape) {
    const event = apiGatewayEvent({
      method,
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(shape.form),
    });
    // API Gateway base64-encodes form bodies; a client of a proxy in front may send them plain.
    return shape.base64 === false ? { ...event, body: shape.form, isBase64Encoded: false } : event;
  }
  const headers = shape.contentType === undefined ? {} : { 'content-type': shape.contentType };
  return { ...apiGatewayEvent({ method, url: path, headers }), body: shape.raw, isBase64Encoded: false };
}

export async function call<T = Record<string, unknown>>(
  handler: LambdaHandler,
  event: APIGatewayProxyEventV2,
  context = lambdaContext('test'),
): Promise<ApiResponse<T>> {
  const result = await handler(event, context);
  return {
    status: result.statusCode ?? 0,
    headers: (result.headers ?? {}) as Record<string, string>,
    body: JSON.parse(result.body ?? '') as Envelope<T>,
  };
}
