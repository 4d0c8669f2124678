/**
 * The checks every synthesis runs: cdk-nag's AwsSolutions pack as a CDK validation plugin.
 * A finding fails `cdk synth` unless the construct acknowledges it with a written reason.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/** Registers the AwsSolutions checks on `app`; call before `app.synth()`. */
export function addComplianceChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
