/**
 * AWS SDK client factories. In Lambda the defaults apply; the local stack passes its endpoints.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

/** Where to reach the services; empty in Lambda. */
export interface Endpoints {
  dynamodb?: string;
  sqs?: string;
  region?: string;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export function dynamoDocumentClient(endpoints: Endpoints = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient(
    endpoints.dynamodb
      ? { endpoint: endpoints.dynamodb, region: endpoints.region ?? 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 5 }
      : {},
  );
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function sqsClient(endpoints: Endpoints = {}): SQSClient {
  return new SQSClient(
    endpoints.sqs ? { endpoint: endpoints.sqs, region: endpoints.region ?? 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 5 } : {},
  );
}
