/**
 * The local stack's table on the embedded DynamoDB API server (dynalite): usable as soon as `ensureTable`
 * returns, though the server, as DynamoDB does, answers CreateTable while the table is still CREATING.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDocumentClient } from '../../lib/runtime/aws/clients.js';
import { ensureTable, startLocalServers, type LocalServers } from '../../lib/runtime/local/local-servers.js';

let home: string;
let servers: LocalServers;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'crosslink-local-table-'));
  // A new table stays CREATING for 300 ms (DynamoDB's take seconds); the stack's own server flips it a timer tick later.
  servers = await startLocalServers(home, { createTableMs: 300 });
});
afterAll(async () => {
  await servers?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('Function: ensureTable', () => {
  it('returns once the table it created is ACTIVE, so that the first write lands', async () => {
    await ensureTable(servers.dynamodbEndpoint, 'slow-to-create');
    const db = dynamoDocumentClient({ dynamodb: servers.dynamodbEndpoint });
    await db.send(new PutCommand({ TableName: 'slow-to-create', Item: { pk: 'p', sk: 's', kind: 'probe' } }));
    expect((await db.send(new GetCommand({ TableName: 'slow-to-create', Key: { pk: 'p', sk: 's' } }))).Item?.kind).toBe('probe');
  });
});
