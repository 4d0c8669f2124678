/**
 * The API as a Lambda builds it once per container: the core services, credentials from Secrets
 * Manager and (for staff routes) the JWT claims API Gateway verified.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { createApi, type ApiSurface } from '../../api/app.js';
import { apiGatewayJwtAuthenticator } from '../../api/auth.js';
import { DocumentCredentialStore } from '../../auth/credentials.js';
import { apiDeps } from '../api-wiring.js';
import { ConfigError } from '../config.js';
import { lambdaCore } from './lambda-core.js';
import { LambdaDetectionDispatcher } from './lambda-detection-dispatcher.js';
import { secretsManagerCredentialsLoader } from './secrets-credentials.js';

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
