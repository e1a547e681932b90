/**
 * Jest's node environment, with the sandbox's Error being Node's own. Without this, errors that
 * Node's core creates (socket hang up, ECONNRESET) come from another realm, fail the AWS SDK's
 * `instanceof Error`, and reach our code as bare "AWS SDK error wrapper" errors without name or
 * code (aws-sdk-js-v3#4273), which never happens on Lambda.
 */
const { TestEnvironment } = require('jest-environment-node');

module.exports = class SameRealmErrorsEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.Error = Error;
  }
};
