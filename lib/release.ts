/**
 * ChatRelease: canary releases with automatic rollback. One CodeDeploy deployment group per
 * function: when a deploy publishes a new version, CloudFormation hands the `live` alias's update to
 * CodeDeploy, which sends 10 % of the function's calls to the new version for 5 minutes and then
 * all of them — or, when one of the function's rollback alarms goes off meanwhile, points the alias
 * back at the previous version and fails the deploy (CloudFormation then rolls the stack back).
 * Stages that release all at once have no ChatRelease: the alias moves with the stack update.
 */
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** 10 % of the calls for 5 minutes, then all: long enough for the 1-minute rollback alarms to judge twice over. */
export const CANARY_CONFIG = codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES;

export interface ReleasedFunction {
  /** The alias the API invokes; CodeDeploy moves it. */
  readonly alias: lambda.Alias;
  /** Any of these in ALARM during the canary rolls the function back (lib/monitoring/canary-alarms.ts). */
  readonly rollbackAlarms: cloudwatch.IAlarm[];
}

export interface ChatReleaseProps {
  /** Every function by id, with its alias and rollback alarms. */
  readonly functions: Record<string, ReleasedFunction>;
}

export class ChatRelease extends Construct {
  readonly application: codedeploy.LambdaApplication;
  /** CodeDeploy's role: read and move these aliases, read these alarms; nothing else. */
  readonly role: iam.Role;
  readonly deploymentGroups: Record<string, codedeploy.LambdaDeploymentGroup> = {};

  constructor(scope: Construct, id: string, props: ChatReleaseProps) {
    super(scope, id);
    const released = Object.values(props.functions);
    if (released.length === 0) throw new Error('ChatRelease: no functions to release');
    if (released.some((fn) => fn.rollbackAlarms.length === 0)) throw new Error('ChatRelease: every function needs rollback alarms');

    // No names: CodeDeploy names are per account and region, and generated ones cannot collide.
    this.application = new codedeploy.LambdaApplication(this, 'Application');

    // Instead of AWSCodeDeployRoleForLambdaLimited (which LambdaDeploymentGroup attaches by default):
    // its Lambda and CloudWatch actions on `*` (every alias in the account), plus S3 reads and hook
    // invocations this stack never uses. Here the same actions, on this stack's aliases and alarms only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      description: "CodeDeploy: moves the chat functions' live aliases, and reads their rollback alarms",
    });
    // Alias operations are authorized on the function's ARN or the alias's, depending on the call: both, of these functions only.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:GetProvisionedConcurrencyConfig'],
        resources: released.flatMap(({ alias }) => [alias.version.lambda.functionArn, alias.functionArn]),
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms'],
        resources: [...new Set(released.flatMap(({ rollbackAlarms }) => rollbackAlarms))].map((alarm) => alarm.alarmArn),
      }),
    );
    // The groups get the role as it is: LambdaDeploymentGroup cannot attach its managed policy to it.
    const role = this.role.withoutPolicyUpdates();

    for (const [functionId, { alias, rollbackAlarms }] of Object.entries(props.functions)) {
      this.deploymentGroups[functionId] = new codedeploy.LambdaDeploymentGroup(this, functionId, {
        application: this.application,
        alias,
        deploymentConfig: CANARY_CONFIG,
        alarms: rollbackAlarms,
        role,
        autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      });
    }
  }
}
