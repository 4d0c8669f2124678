/** The core services a Lambda builds once per container from its environment, over the default AWS clients. */
import { readConfig } from '../config.js';
import { buildCore, type Core } from '../core.js';
import { dynamoDocumentClient, sqsClient } from './clients.js';

let core: Core | undefined;

/** The core services for this Lambda's environment (built on first use, then reused). */
export function lambdaCore(): Core {
  core ??= buildCore({ db: dynamoDocumentClient(), sqs: sqsClient(), config: readConfig(process.env) });
  return core;
}
