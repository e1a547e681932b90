/**
 * Apps for the infra tests, built as `cdk synth` builds them: cdk.json's feature flags, and a stage
 * file of the test's own (none by default: every setting then comes from the test's context, as if
 * given with -c), so the committed stages.json's values never decide a test's outcome unless it
 * asks for them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { CONTEXT } from '../../lib/app';
import { PROJECT_ROOT } from '../../lib/chat-stack';

/** The context `cdk synth` reads from cdk.json: the tests synthesize with the same feature flags. */
export const CDK_JSON_CONTEXT = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context;
/** Skips esbuild, for apps whose code assets do not matter to a test. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

export const ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_test';
export const JWT_CONTEXT = { [CONTEXT.jwtIssuer]: ISSUER, [CONTEXT.jwtAudience]: 'client-a, client-b' };
export const PROD_CONTEXT = { [CONTEXT.stage]: 'prod', ...JWT_CONTEXT };

/** A stage file with these contents, in a temporary folder; its absolute path. */
export function stagesFile(stages: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stages-'));
  const file = path.join(dir, 'stages.json');
  fs.writeFileSync(file, typeof stages === 'string' ? stages : JSON.stringify(stages));
  return file;
}

/** No stage settings at all: only the stages' traits and the context. */
export const NO_STAGE_SETTINGS = stagesFile({});

/** An app with cdk.json's flags, no stage settings (unless the context names a stagesFile), and `context`. */
export function newApp(context: Record<string, unknown> = {}, outdir?: string): App {
  return new App({ outdir, context: { ...CDK_JSON_CONTEXT, [CONTEXT.stagesFile]: NO_STAGE_SETTINGS, ...context } });
}
