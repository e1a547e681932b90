/**
 * The app: the stage's stack, configured from stages.json and CDK context (lib/settings.ts), and
 * the cdk-nag checks. bin/app.ts and the infra tests both build it here, so the tests run exactly
 * the checks `cdk synth` runs.
 */
import * as path from 'node:path';
import { Annotations, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ChatStack } from './chat-stack';
import { resolveSettings } from './settings';

export { CONTEXT, ContextError, DEFAULT_STAGES_FILE, MISSING_AUTHORIZATION } from './settings';

export const STACK_NAME_PREFIX = 'GroupChat';

/** Where stages.json, package-lock.json and the handlers' `entry` paths are relative to. */
const PROJECT_ROOT = path.resolve(__dirname, '..');

export function stackName(stage: string): string {
  return `${STACK_NAME_PREFIX}-${stage}`;
}

export function buildApp(app: App): ChatStack {
  // Every setting is read and checked here, before the first function is bundled: a mistake costs one line, not a build.
  const settings = resolveSettings({
    context: (key) => app.node.tryGetContext(key),
    projectRoot: PROJECT_ROOT,
    deployRegion: process.env.CDK_DEFAULT_REGION,
  });
  const { stage, traits } = settings;

  const stack = new ChatStack(app, stackName(stage), {
    description: `Group chat (${stage}): HTTP API, one Lambda function per route, one DynamoDB table`,
    stage,
    settings: traits,
    authorization: settings.authorization,
    corsOrigins: settings.corsOrigins,
    alarmEmail: settings.alarmEmail,
    domain: settings.domain,
    dynamodbEndpoint: settings.dynamodbEndpoint,
  });
  settings.warnings.forEach((warning, i) => Annotations.of(stack).addWarningV2(`group-chat:settings${i}`, warning));
  // Any finding not acknowledged (with its reason, next to the construct) fails synthesis.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return stack;
}
