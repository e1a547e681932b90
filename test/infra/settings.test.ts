/**
 * Settings: every stage's in one committed file (stages.json), `-c key=value` overriding it, and
 * every mistake refused in one line before a single function is bundled (lib/settings.ts).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ENV } from '../../lambda/contract';
import { buildApp, CONTEXT, ContextError, DEFAULT_STAGES_FILE, MISSING_AUTHORIZATION } from '../../lib/app';
import { PROJECT_ROOT } from '../../lib/chat-stack';
import { resolveSettings, STAGE_FILE_KEYS } from '../../lib/settings';
import { STAGES } from '../../lib/stages';
import { ISSUER, JWT_CONTEXT, NO_BUNDLING, NO_STAGE_SETTINGS, PROD_CONTEXT, newApp, stagesFile } from './app';

const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-1111-2222-3333-444455556666';

const templateOf = (context: Record<string, unknown>) => Template.fromStack(buildApp(newApp({ ...NO_BUNDLING, ...context })));
const envOf = (template: Template): Record<string, unknown> =>
  (Object.values(template.findResources('AWS::Lambda::Function'))[0].Properties.Environment.Variables as Record<string, unknown>);

/** The ContextError buildApp throws for `context`, with bundling on and an empty cloud assembly folder. */
function refusal(context: Record<string, unknown>): { message: string; outdir: string[] } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'refused-'));
  try {
    buildApp(newApp(context, outdir));
  } catch (error) {
    expect(error).toBeInstanceOf(ContextError);
    return { message: (error as Error).message, outdir: fs.readdirSync(outdir) };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
  throw new Error(`not refused: ${JSON.stringify(context)}`);
}

describe('the committed stages.json', () => {
  const committed = (stage: string) => newApp({ ...NO_BUNDLING, [CONTEXT.stagesFile]: DEFAULT_STAGES_FILE, [CONTEXT.stage]: stage });

  test('has every stage of lib/stages.ts, and only settings the stacks know', () => {
    const file = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, DEFAULT_STAGES_FILE), 'utf8'));
    expect(Object.keys(file).filter((key) => !key.startsWith('$')).sort()).toEqual(Object.keys(STAGES).sort());
    for (const entry of Object.values(file).filter((e) => typeof e === 'object')) {
      for (const key of Object.keys(entry as object)) expect(STAGE_FILE_KEYS).toContain(key);
    }
  });

  test.each(Object.keys(STAGES))('`cdk synth -c stage=%s` takes everything from it, and cdk-nag is clean', (stage) => {
    const app = committed(stage);
    const stack = buildApp(app);
    expect(stack.stackName).toBe(`GroupChat-${stage}`);
    const identity = envOf(Template.fromStack(stack))[ENV.identitySource];
    // The open demo is a stage of its own; no other stage is one.
    expect(identity).toBe(stage === 'demo' ? 'headers' : 'jwt');
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
    expect(new ServerlessChecks().validateScope(app).violations).toEqual([]);
  });

  test('its example values are announced as such when synthesized', () => {
    const stack = buildApp(committed('prod'));
    Annotations.fromStack(stack).hasWarning(`/${stack.stackName}`, Match.stringLikeRegexp('prod.jwtIssuer.*example values.*before deploying'));
  });
});

describe('a stage file', () => {
  const file = stagesFile({
    $comment: 'ignored',
    dev: { jwtIssuer: ISSUER, jwtAudience: ['app-dev'], throttleRate: 75, corsOrigins: 'https://dev.example.com' },
    prod: { jwtIssuer: ISSUER, jwtAudience: 'app-a, app-b', alarmEmail: 'ops@example.com', throttleBurst: '2500', membership: 'self' },
    demo: { openDemo: true },
  });
  const withFile = (context: Record<string, unknown>) => templateOf({ [CONTEXT.stagesFile]: file, ...context });

  test('gives each stage its own settings (lists as arrays or comma-separated, numbers as numbers or text)', () => {
    const dev = withFile({});
    dev.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 75, ThrottlingBurstLimit: STAGES.dev.throttle.burstLimit } });
    dev.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { JwtConfiguration: { Issuer: ISSUER, Audience: ['app-dev'] } });
    dev.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.objectLike({ AllowOrigins: ['https://dev.example.com'] }) });
    dev.resourceCountIs('AWS::SNS::Subscription', 0);

    const prod = withFile({ [CONTEXT.stage]: 'prod' });
    prod.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { JwtConfiguration: { Issuer: ISSUER, Audience: ['app-a', 'app-b'] } });
    prod.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    prod.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: STAGES.prod.throttle.rateLimit, ThrottlingBurstLimit: 2500 } });
    expect(envOf(prod)[ENV.membership]).toBe('self');

    expect(envOf(withFile({ [CONTEXT.stage]: 'demo' }))[ENV.identitySource]).toBe('headers');
  });

  test('-c overrides it, setting by setting', () => {
    const prod = withFile({ [CONTEXT.stage]: 'prod', [CONTEXT.throttleBurst]: '3000', [CONTEXT.alarmEmail]: 'pager@example.com' });
    prod.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingBurstLimit: 3000 } });
    prod.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: 'pager@example.com' });
    prod.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { JwtConfiguration: { Audience: ['app-a', 'app-b'] } });
  });

  test('the open demo cannot meet an issuer by accident, from either side', () => {
    // The file's demo, and an issuer given on the command line.
    expect(refusal({ [CONTEXT.stagesFile]: file, [CONTEXT.stage]: 'demo', [CONTEXT.jwtIssuer]: ISSUER }).message).toBe(
      `${file} demo.openDemo is true and jwtIssuer is set: an open demo and a JWT authorizer exclude each other`,
    );
    // A stage whose file entry has an issuer, and -c openDemo=true: the demo is its own stage.
    expect(refusal({ [CONTEXT.stagesFile]: file, [CONTEXT.openDemo]: 'true' }).message).toBe(
      `openDemo is true and ${file} dev.jwtIssuer is set: an open demo and a JWT authorizer exclude each other (the open demo is a stage of its own: -c stage=demo)`,
    );
    // Turning the demo into a guarded stack takes saying so.
    expect(envOf(withFile({ [CONTEXT.stage]: 'demo', [CONTEXT.openDemo]: 'false', ...JWT_CONTEXT }))[ENV.identitySource]).toBe('jwt');
  });

  test.each([
    ['{"qa": {}}', /unknown stage "qa"; the stages are dev, prod, demo/],
    ['{"prod": {"alarmMail": "ops@example.com"}}', /prod\.alarmMail is not a setting; the settings are jwtIssuer, /],
    ['{"prod": {"stage": "dev"}}', /prod\.stage is not a setting/],
    ['{"prod": {"dynamodbEndpoint": "http://localhost:8000"}}', /prod\.dynamodbEndpoint is not a setting/],
    ['{"prod": []}', /prod must be an object of settings/],
    ['[]', /expected an object of stages/],
    ['{"prod": {', /JSON/],
  ])('%s is refused in one line', (contents, message) => {
    const { message: refused } = refusal({ [CONTEXT.stagesFile]: stagesFile(contents), ...PROD_CONTEXT });
    expect(refused).toMatch(message);
    expect(refused).not.toContain('\n');
  });

  test('a missing file is refused in one line', () => {
    expect(refusal({ [CONTEXT.stagesFile]: 'no-such-stages.json', ...PROD_CONTEXT }).message).toBe('no-such-stages.json: not found');
  });
});

describe('every setting is checked before anything is bundled', () => {
  test.each([
    [{ [CONTEXT.alarmEmail]: 'ops' }, 'alarmEmail must be an e-mail address, got "ops"'],
    [{ [CONTEXT.alarmEmail]: 'ops@localhost' }, 'alarmEmail must be an e-mail address, got "ops@localhost"'],
    [{ [CONTEXT.throttleBurst]: '0' }, 'throttleBurst must be a positive number, got "0"'],
    [{ [CONTEXT.membership]: 'open' }, 'membership must be managed or self, got "open"'],
    [{ [CONTEXT.release]: 'fast' }, 'release must be canary or allAtOnce, got "fast"'],
    [{ [CONTEXT.corsOrigins]: 'app.example.com' }, 'corsOrigins must list origins like https://app.example.com, got "app.example.com"'],
    [{ [CONTEXT.jwtIssuer]: 'http://issuer.example.com' }, 'jwtIssuer must be an https:// URL, got "http://issuer.example.com"'],
    [{ [CONTEXT.dynamodbEndpoint]: 'localhost:8000' }, 'dynamodbEndpoint must be an http:// or https:// URL, got "localhost:8000"'],
    [{ [CONTEXT.openDemo]: 'yes' }, 'openDemo must be true or false, got "yes"'],
    [{ [CONTEXT.domainName]: 'Chat_Example' }, /domainName must be a lower-case host name/],
    [{ [CONTEXT.domainName]: 'chat.example.com' }, 'a custom domain takes both domainName and certificateArn (only domainName is set)'],
    [{ [CONTEXT.domainName]: 'chat.example.com', [CONTEXT.certificateArn]: 'arn:aws:iam::123456789012:server-certificate/x' }, /certificateArn must be an ACM certificate ARN/],
    [{ [CONTEXT.hostedZoneId]: 'Z0123456789ABCDEFGHIJ', [CONTEXT.hostedZoneName]: 'example.com' }, /hostedZoneId is set without domainName/],
    [{ [CONTEXT.domainName]: 'chat.example.com', [CONTEXT.certificateArn]: CERTIFICATE, [CONTEXT.hostedZoneId]: 'Z0123456789ABCDEFGHIJ' }, /takes both hostedZoneId and hostedZoneName/],
    [
      { [CONTEXT.domainName]: 'chat.example.com', [CONTEXT.certificateArn]: CERTIFICATE, [CONTEXT.hostedZoneId]: 'Z0123456789ABCDEFGHIJ', [CONTEXT.hostedZoneName]: 'example.org' },
      'domainName chat.example.com is not in the hosted zone example.org',
    ],
    [{ [CONTEXT.stage]: 'qa' }, /unknown stage "qa"/],
  ])('%j: one line, and no function bundled', (bad, message) => {
    const { message: refused, outdir } = refusal({ ...PROD_CONTEXT, ...bad });
    if (typeof message === 'string') expect(refused).toBe(message);
    else expect(refused).toMatch(message);
    expect(refused).not.toContain('\n');
    expect(outdir).toEqual([]);
  });

  test('without authorization, the message says what to give (in stages.json or with -c) and names the demo stage', () => {
    expect(refusal({}).message).toBe(MISSING_AUTHORIZATION);
    expect(MISSING_AUTHORIZATION).toMatch(/stages\.json.*-c stage=demo/);
  });

  test("a certificate outside the CLI's region is a warning (without AWS configuration the CLI says us-east-1 anyway)", () => {
    const context: Record<string, unknown> = { ...PROD_CONTEXT, [CONTEXT.stagesFile]: NO_STAGE_SETTINGS, [CONTEXT.domainName]: 'chat.example.com', [CONTEXT.certificateArn]: CERTIFICATE };
    const resolve = (deployRegion?: string) => resolveSettings({ context: (key) => context[key], projectRoot: PROJECT_ROOT, deployRegion });
    expect(resolve('eu-west-1')).toMatchObject({ domain: { domainName: 'chat.example.com', certificateArn: CERTIFICATE, hostedZone: undefined }, warnings: [] });
    expect(resolve(undefined).warnings).toEqual([]);
    expect(resolve('us-east-1').warnings).toEqual([
      "certificateArn is in eu-west-1, but the CLI's region is us-east-1: a regional API's certificate must be in its region, " +
        'so deploy the stack to eu-west-1 (AWS_REGION, --profile) or use a certificate of us-east-1.',
    ]);
  });

  test('`cdk synth` with a bad alarmEmail prints one line, no stack trace, bundles nothing, and fails', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-'));
    try {
      const synth = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'bin/app.ts')], {
        cwd: PROJECT_ROOT,
        env: {
          PATH: process.env.PATH,
          CDK_OUTDIR: outdir,
          CDK_CONTEXT_JSON: JSON.stringify({ [CONTEXT.stage]: 'prod', [CONTEXT.alarmEmail]: 'ops@' }),
        },
        encoding: 'utf8',
      });
      expect(synth.status).toBe(1);
      expect(synth.stderr.trim()).toBe('alarmEmail must be an e-mail address, got "ops@"');
      expect(synth.stdout).not.toMatch(/Bundling/);
      expect(fs.readdirSync(outdir)).toEqual([]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
