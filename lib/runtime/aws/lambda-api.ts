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
import { PlatformAdmin } from '../../auth/platform-admin.js';
import { apiDeps } from '../api-wiring.js';
import { required } from '../config.js';
import { lambdaCore } from './lambda-core.js';
import { LambdaDetectionDispatcher } from './lambda-detection-dispatcher.js';
import { secretsManagerCredentialsLoader } from './secrets-credentials.js';
import { SecretsManagerDocumentStore } from './secrets-document-store.js';

const requiredEnv = (name: string) => required(process.env, name);

/** The hono app for one API surface, wired for Lambda. */
export function lambdaApi(surface: Exclude<ApiSurface, 'all'>) {
  const services = lambdaCore();
  const secrets = new SecretsManagerClient({});
  const credentialsSecretArn = requiredEnv('CREDENTIALS_SECRET_ARN');
  const credentials = new DocumentCredentialStore(secretsManagerCredentialsLoader(secrets, credentialsSecretArn));
  return createApi(
    apiDeps(services, {
      credentials,
      staffAuthenticator: apiGatewayJwtAuthenticator(),
      // Operator edits are read by every container's cached loader within DEFAULT_CREDENTIALS_CACHE_SECONDS.
      platformAdmin: surface === 'investigator' ? new PlatformAdmin(new SecretsManagerDocumentStore(secrets, credentialsSecretArn)) : undefined,
      // Only the staff surface starts detection runs; the platform function has no detect function to call.
      dispatcher:
        surface === 'investigator'
          ? new LambdaDetectionDispatcher(new LambdaClient({}), requiredEnv('DETECT_FUNCTION_NAME'))
          : { dispatch: async () => Promise.reject(new Error('the platform API does not start detection runs')) },
      logger: new Logger({ serviceName: 'crosslink' }),
    }),
    surface,
  );
}
