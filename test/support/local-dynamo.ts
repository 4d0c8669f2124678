/**
 * A real DynamoDB API (dynalite) on a temporary directory, for integration tests of one repository:
 * the document client the repositories take, and the table(s) they use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../lib/runtime/aws/clients.js';
import { ensureTable, startLocalServers } from '../../lib/runtime/local/local-servers.js';

export interface LocalDynamo {
  db: DynamoDBDocumentClient;
  /** Creates a table with the deployed schema (default name `crosslink`), unless it exists. */
  ensureTable(name?: string): Promise<void>;
  /** Stops the servers and removes their directory. */
  stop(): Promise<void>;
}

/** Starts the local servers in a fresh directory named after `name`. */
export async function startLocalDynamo(name: string): Promise<LocalDynamo> {
  const home = mkdtempSync(join(tmpdir(), `crosslink-${name}-`));
  const servers = await startLocalServers(home);
  return {
    db: dynamoDocumentClient({ dynamodb: servers.dynamodbEndpoint }),
    ensureTable: (tableName = 'crosslink') => ensureTable(servers.dynamodbEndpoint, tableName),
    stop: async () => {
      await servers.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
