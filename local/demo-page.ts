/**
 * The demo chat page `npm start` serves at `/` (local/demo/: one HTML page, its ES module and its
 * style sheet, served as they are: no build step). It is a client of the API like any app: it calls
 * the routes with the x-user-* headers and listens on the push endpoint. Only GET and HEAD of these
 * three paths are the page's; every other request goes on to the API's routes and `$default`, as
 * before. Deployed stacks serve no page: this is the local server's alone.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { parseUrl } from './api-gateway-event';

export const DEMO_PAGE_DIR = path.resolve(__dirname, 'demo');

/** The page's files by path. */
const ASSETS: ReadonlyMap<string, { file: string; contentType: string }> = new Map([
  ['/', { file: 'index.html', contentType: 'text/html; charset=utf-8' }],
  ['/demo/app.js', { file: 'app.js', contentType: 'text/javascript; charset=utf-8' }],
  ['/demo/style.css', { file: 'style.css', contentType: 'text/css; charset=utf-8' }],
]);

/** The page loads only its own files and talks only to this server (HTTP and the push socket). */
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'";

/** Answers a request for one of the page's files and returns true; returns false, answering nothing, for any other request. */
export async function serveDemoPage(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const asset = ASSETS.get(parseUrl(req.url ?? '/').pathname);
  if (!asset) return false;
  // Read at each request (three small files): an edit shows on reload, without restarting npm start.
  const body = await readFile(path.join(DEMO_PAGE_DIR, asset.file));
  res.writeHead(200, {
    'content-type': asset.contentType,
    'content-length': body.length,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'content-security-policy': CONTENT_SECURITY_POLICY,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
