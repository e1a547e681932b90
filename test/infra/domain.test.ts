/**
 * The custom domain: asked for with domainName and certificateArn (in stages.json or with -c), it
 * serves the API's `$default` stage at its root; with the hosted zone, an alias record points the
 * name at it. Without them, the stack is as before: clients use the execute-api URL.
 */
import { type CfnElement, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { buildApp, CONTEXT } from '../../lib/app';
import { NO_BUNDLING, PROD_CONTEXT, newApp, stagesFile } from './app';

const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-1111-2222-3333-444455556666';
const DOMAIN = { [CONTEXT.domainName]: 'chat.example.com', [CONTEXT.certificateArn]: CERTIFICATE };
const ZONE = { [CONTEXT.hostedZoneId]: 'Z0123456789ABCDEFGHIJ', [CONTEXT.hostedZoneName]: 'example.com' };

const logicalId = (stack: Stack, construct: IConstruct): string => stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);

function synth(context: Record<string, unknown>) {
  const app = newApp({ ...NO_BUNDLING, ...PROD_CONTEXT, ...context });
  const stack = buildApp(app);
  return { app, stack, template: Template.fromStack(stack) };
}

test('without a domain: no domain name, mapping or record; ApiUrl is the execute-api URL', () => {
  const { stack, template } = synth({});
  for (const type of ['AWS::ApiGatewayV2::DomainName', 'AWS::ApiGatewayV2::ApiMapping', 'AWS::Route53::RecordSet']) template.resourceCountIs(type, 0);
  template.hasOutput('ApiUrl', { Value: { 'Fn::Join': ['', ['https://', { Ref: logicalId(stack, stack.api) }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/']] } });
  expect(Object.keys(template.toJSON().Outputs)).not.toContain('DomainTarget');
});

describe('with domainName and certificateArn', () => {
  const { app, stack, template } = synth(DOMAIN);
  const domainId = () => logicalId(stack, stack.domain!.domainName);

  test('a regional domain name with that certificate, TLS 1.2', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'chat.example.com',
      DomainNameConfigurations: [{ CertificateArn: CERTIFICATE, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }],
    });
  });

  test('the `$default` stage mapped at its root: the paths stay as they are', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    const mapping = Object.values(template.findResources('AWS::ApiGatewayV2::ApiMapping'))[0].Properties;
    expect(mapping).toEqual({ ApiId: { Ref: logicalId(stack, stack.api) }, DomainName: { Ref: domainId() }, Stage: '$default' });
  });

  test('no DNS record without a hosted zone; the outputs say where to point one', () => {
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
    template.hasOutput('ApiUrl', { Value: 'https://chat.example.com/' });
    template.hasOutput('ExecuteApiUrl', { Value: { 'Fn::Join': ['', ['https://', { Ref: logicalId(stack, stack.api) }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/']] } });
    template.hasOutput('DomainTarget', { Value: { 'Fn::GetAtt': [domainId(), 'RegionalDomainName'] } });
    template.hasOutput('DomainTargetZoneId', { Value: { 'Fn::GetAtt': [domainId(), 'RegionalHostedZoneId'] } });
  });

  test('cdk-nag is clean', () => {
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
    expect(new ServerlessChecks().validateScope(app).violations).toEqual([]);
  });
});

test('with the hosted zone too: an alias A record for the name, pointing at the regional domain', () => {
  const { app, stack, template } = synth({ ...DOMAIN, ...ZONE });
  const domainId = logicalId(stack, stack.domain!.domainName);
  template.resourceCountIs('AWS::Route53::RecordSet', 1);
  expect(Object.values(template.findResources('AWS::Route53::RecordSet'))[0].Properties).toEqual({
    HostedZoneId: 'Z0123456789ABCDEFGHIJ',
    Name: 'chat.example.com.',
    Type: 'A',
    AliasTarget: {
      DNSName: { 'Fn::GetAtt': [domainId, 'RegionalDomainName'] },
      HostedZoneId: { 'Fn::GetAtt': [domainId, 'RegionalHostedZoneId'] },
    },
  });
  template.hasOutput('ApiUrl', { Value: 'https://chat.example.com/' });
  expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
});

test("from a stage's entry in stages.json, like any other setting", () => {
  const file = stagesFile({ prod: { ...DOMAIN, ...ZONE } });
  const { template } = synth({ [CONTEXT.stagesFile]: file });
  template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', { DomainName: 'chat.example.com' });
  template.resourceCountIs('AWS::Route53::RecordSet', 1);
});
