import { App } from 'aws-cdk-lib';
import { buildApp } from './build.js';
import { ConfigValidationError } from './config.js';

/** `cdk` entry point (cdk.json runs it with tsx). */
try {
  buildApp(new App());
} catch (error) {
  if (!(error instanceof ConfigValidationError)) throw error;
  console.error(error.message);
  process.exit(1);
}
