/**
 * What a Lambda builds once per container from its environment: the core services over the default
 * AWS clients, and the API with credentials from Secrets Manager and (for investigators) the JWT
 * claims API Gateway verified.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { createApi, type ApiSurface } from '../../api/app.js';
import { apiGatewayJwtAuthenticator } from '../../api/auth.js';
import { DocumentCredentialStore } from '../../auth/credentials.js';
import { apiDeps } from '../api-wiring.js';
import { ConfigError, readConfig } from '../config.js';
import { buildCore, type Core } from '../core.js';
import { dynamoDocumentClient, sqsClient } from './clients.js';
import { LambdaDetectionDispatcher } from './lambda-detection-dispatcher.js';
import { secretsManagerCredentialsLoader } from './secrets-credentials.js';

let core: Core | undefined;

/** The core services for this Lambda's environment (built on first use, then reused). */
export function lambdaCore(): Core {
  core ??= buildCore({ db: dynamoDocumentClient(), sqs: sqsClient(), config: readConfig(process.env) });
  return core;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

/** The hono app for one API surface, wired for Lambda. */
export function lambdaApi(surface: Exclude<ApiSurface, 'all'>) {
  const services = lambdaCore();
  const credentials = new DocumentCredentialStore(secretsManagerCredentialsLoader(new SecretsManagerClient({}), requiredEnv('CREDENTIALS_SECRET_ARN')));
  return createApi(
    apiDeps(services, {
      credentials,
      staffAuthenticator: apiGatewayJwtAuthenticator(),
      dispatcher: new LambdaDetectionDispatcher(new LambdaClient({}), surface === 'investigator' ? requiredEnv('DETECT_FUNCTION_NAME') : 'unused'),
      logger: new Logger({ serviceName: 'crosslink' }),
    }),
    surface,
  );
}
