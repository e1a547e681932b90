#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildApp, ContextError } from '../lib/app';

try {
  buildApp(new App());
} catch (error) {
  if (!(error instanceof ContextError)) throw error;
  // A settings mistake, not a bug: the message says what to give, a stack trace would only hide it.
  console.error(`\n${error.message}\n`);
  process.exit(1);
}
