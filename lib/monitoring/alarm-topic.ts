/**
 * AlarmTopic: the SNS topic every alarm notifies (ALARM and OK), which only this account's alarms
 * named `<namePrefix>-*` may publish to, over TLS; optionally an e-mail address subscribed to it.
 */
import { ArnFormat, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** The prefix of the alarms' names (`<namePrefix>-<signal>`) that may publish; also in the topic's display name. */
  readonly namePrefix: string;
  /**
   * E-mail address subscribed to the topic (it must confirm the subscription from the e-mail SNS sends).
   * @default - no subscription; subscribe to the topic by other means
   */
  readonly alarmEmail?: string;
}

// Not encrypted at rest, on purpose. The messages are alarm state changes (alarm name, description,
// metric, threshold): no chat content, no user data, no secrets. CloudWatch cannot publish to a
// topic under the AWS-managed aws/sns key, so encryption would take a customer-managed key whose
// policy lets cloudwatch.amazonaws.com use it ($1/month plus a failure mode: a wrong or disabled
// key silently drops every alarm notification) to protect nothing of value. In transit, publishing
// without TLS is denied (enforceSSL). Neither AwsSolutions nor Serverless (cdk-nag 3.0.2) has a
// topic-encryption rule, so nothing is acknowledged for this.
export class AlarmTopic extends sns.Topic {
  /** The e-mail subscription, when `alarmEmail` is given. */
  readonly emailSubscription?: sns.Subscription;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    if (props.alarmEmail !== undefined && !Token.isUnresolved(props.alarmEmail) && !/^[^@\s]+@[^@\s]+$/.test(props.alarmEmail)) {
      throw new Error(`alarmEmail is not an e-mail address: ${props.alarmEmail}`);
    }
    super(scope, id, { displayName: `${props.namePrefix} alarms`, enforceSSL: true });

    // The topic policy that enforceSSL creates replaces SNS's default policy (which allowed publishing
    // from the owning account), so CloudWatch's right to publish is stated here rather than assumed:
    // for this account's alarms named <namePrefix>-* only (no confused deputy).
    const stack = Stack.of(this);
    this.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: `${props.namePrefix}-*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );

    if (props.alarmEmail) {
      this.emailSubscription = this.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      Validations.of(this.emailSubscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'The topic carries only alarm state changes. One that SNS cannot deliver to the mailbox after its retries ' +
          "loses nothing: the alarm's state and history stay in CloudWatch and on the dashboard's alarm status widget. " +
          'A dead-letter queue would keep copies nobody reads, and an alarm on it could only notify through this same topic.',
      });
    }
  }
}
