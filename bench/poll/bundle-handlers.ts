/**
 * Built bundles' handlers, loaded into the benchmark process through the one handler loader
 * (local/handlers.ts loadHandler), each as a copy of its own with the deployed function's settings.
 *
 * Why copies: the functions read their settings (table, endpoint, identity source) and build their
 * store at import, as on Lambda, so a jwt and an open handler, or a handler pointed at the counting
 * proxy, are separate module instances. A query string on the bundle's path makes one (the same
 * string returns the same instance, warm code included).
 */
import path from 'node:path';
import { ENV } from '../../lambda/contract';
import { OBSERVABILITY_ENV } from '../../lib/chat-function';
import { loadHandler, type LambdaHandler } from '../../local/handlers';
import type { Auth } from './floor';
import { PROJECT_ROOT } from './build';

/** `env` set only while the copy initialises, then restored. */
async function loadBundleCopy(bundle: string, env: Record<string, string>, copy: string): Promise<LambdaHandler> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await loadHandler(`${path.relative(PROJECT_ROOT, bundle)}?${copy}`);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

export type BundleHandlers = Record<Auth, LambdaHandler>;

/**
 * The bundle's handler as deployed with authorization on (jwt) and as an open demo (headers), on
 * `endpoint`; `settings`: more of the function's environment (e.g. the membership mode).
 */
export async function loadBundleHandlers(bundle: string, tableName: string, endpoint: string, copy: string, settings: Record<string, string> = {}): Promise<BundleHandlers> {
  // The deployed function's settings (lib/chat-function.ts), then the local database's.
  const env = {
    ...OBSERVABILITY_ENV,
    ...settings,
    [ENV.tableName]: tableName,
    [ENV.dynamodbEndpoint]: endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  return {
    jwt: await loadBundleCopy(bundle, { ...env, [ENV.identitySource]: 'jwt' }, `${copy}-jwt`),
    open: await loadBundleCopy(bundle, { ...env, [ENV.identitySource]: 'headers' }, `${copy}-open`),
  };
}
