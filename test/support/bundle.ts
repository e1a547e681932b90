/** Running a built Lambda bundle as the runtime would: a fresh `node` process, the handler called once per event file. */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { TestTable } from './dynamodb';

const run = promisify(execFile);

/**
 * Runs `bundle` (an index.mjs) on the event files with a function's environment for `table` (header
 * identity and `self` membership, as `sam local invoke` of an open demo stack) plus `env`. stdout has one JSON line per
 * result (`{ file, result }`, see invoke-bundle.mjs) among whatever the function itself prints.
 */
export function runBundle(bundle: string, eventFiles: string[], table: TestTable, env: Record<string, string> = {}) {
  return run(process.execPath, [path.join(__dirname, 'invoke-bundle.mjs'), bundle, ...eventFiles], {
    env: {
      PATH: process.env.PATH,
      TABLE_NAME: table.tableName,
      DYNAMODB_ENDPOINT: table.endpoint,
      IDENTITY_SOURCE: 'headers',
      MEMBERSHIP: 'self',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
  });
}
