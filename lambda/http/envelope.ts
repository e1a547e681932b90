/** The answer of every route, errors included: `{ code, msg, data }` with the HTTP status equal to `code`. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function envelope(code: number, msg: string, data: object | null): APIGatewayProxyStructuredResultV2 {
  return { statusCode: code, headers: { ...HEADERS }, body: JSON.stringify({ code, msg, data }) };
}
