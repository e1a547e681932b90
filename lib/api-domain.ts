/**
 * ApiDomain: the API under a custom domain of ours (`https://chat.example.com/…`), so clients keep
 * their URL even if the API is ever replaced. A regional API Gateway domain name with the stage
 * mapped at its root, and, when the hosted zone is given, the Route 53 alias record that points the
 * name at it (otherwise the DNS record is made by hand: outputs DomainTarget).
 */
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { DomainSettings } from './settings';

export interface ApiDomainProps extends DomainSettings {
  readonly api: apigwv2.IHttpApi;
  /** The stage served at the domain's root (`$default`: the paths stay as they are). */
  readonly stage: apigwv2.IHttpStage;
}

export class ApiDomain extends Construct {
  readonly domainName: apigwv2.DomainName;
  /** The alias record, when the hosted zone was given. */
  readonly record?: route53.ARecord;
  /** `https://<domain>/`: the base URL clients call. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ApiDomainProps) {
    super(scope, id);
    this.domainName = new apigwv2.DomainName(this, 'Name', {
      domainName: props.domainName,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
      endpointType: apigwv2.EndpointType.REGIONAL,
      securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
    });
    // No mapping key: the routes keep their paths (`/message/find_group_chat`) under the new host.
    new apigwv2.ApiMapping(this, 'Mapping', { api: props.api, domainName: this.domainName, stage: props.stage });

    if (props.hostedZone) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: props.hostedZone.id,
        zoneName: props.hostedZone.name,
      });
      this.record = new route53.ARecord(this, 'Record', {
        zone,
        recordName: props.domainName,
        target: route53.RecordTarget.fromAlias(
          new targets.ApiGatewayv2DomainProperties(this.domainName.regionalDomainName, this.domainName.regionalHostedZoneId),
        ),
      });
    }
    this.url = `https://${props.domainName}/`;
  }
}
