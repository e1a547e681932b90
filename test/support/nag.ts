/** cdk-nag in infra tests: the findings a scope acknowledges. */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface Acknowledgement {
  /** Path of the construct that acknowledges, from the app's root. */
  path: string;
  /** The rule, e.g. `AwsSolutions-APIG4`. */
  id: string;
  reason: string;
}

/** Every acknowledged finding on `scope` and the constructs below it. */
export function acknowledgementsUnder(scope: IConstruct): Acknowledgement[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .map(([id, reason]) => ({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason })),
  );
}
