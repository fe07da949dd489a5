import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '../../../../infra/local/dynamodb';
import { createTables, readCloudFormationResources } from '../../../../infra/local/tables';
import {
  DynamoPlatformKeyStore,
  PLATFORM_CERTIFICATES_ID,
} from '../../../../lib/aws/dynamo-platform-key-store';
import type { PlatformCertificateSet } from '../../../../lib/contracts/ports';
import { DependencyUnavailable } from '../../../../lib/errors';

const certificate = (serial: string) => ({
  serial,
  pem: `-----BEGIN CERTIFICATE-----\n${serial}\n-----END CERTIFICATE-----\n`,
  not_before: '2026-01-01T00:00:00.000Z',
  not_after: '2031-01-01T00:00:00.000Z',
});
const set = (downloadedAt: string, ...serials: string[]): PlatformCertificateSet => ({
  certificates: serials.map(certificate),
  downloaded_at: downloadedAt,
});

describe('DynamoPlatformKeyStore on DynamoDB Local (the deployed notifications table definition)', () => {
  const table = `platform-keys-${randomBytes(4).toString('hex')}`;
  let stop: (() => Promise<void>) | undefined;
  let client: DynamoDBClient;
  let db: DynamoDBDocumentClient;
  let store: DynamoPlatformKeyStore;

  before(async () => {
    let endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    if (!endpoint) {
      const local = await startDynamoDbLocal();
      stop = () => local.stop();
      endpoint = local.endpoint;
    }
    client = new DynamoDBClient({
      endpoint,
      region: 'ap-southeast-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const { NotificationsTable } = readCloudFormationResources(
      join(import.meta.dirname, '../../../../infra/aws/tables.yml'),
    );
    assert.ok(NotificationsTable, 'infra/aws/tables.yml defines NotificationsTable');
    await createTables(client, { NotificationsTable }, { NotificationsTable: table });
    db = DynamoDBDocumentClient.from(client);
    store = new DynamoPlatformKeyStore(db, table);
  });
  after(async () => {
    await client?.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    client?.destroy();
    await stop?.();
  });

  it('loads nothing before the first save', async () => {
    assert.equal(await store.load(), undefined);
  });

  it('saves and loads one set under the reserved id, with no TTL attribute', async () => {
    const first = set('2026-11-27T00:00:00.000Z', 'AAAA01');
    assert.equal(await store.save(first), 'saved');
    assert.deepEqual(await store.load(), first);
    const { Item } = await db.send(
      new GetCommand({ TableName: table, Key: { id: PLATFORM_CERTIFICATES_ID } }),
    );
    assert.deepEqual(Object.keys(Item ?? {}).sort(), ['certificates', 'downloaded_at', 'id']);
  });

  it('a later download replaces the set; an earlier one arriving late is refused as stale', async () => {
    const later = set('2026-11-27T06:00:00.000Z', 'AAAA01', 'BBBB02');
    assert.equal(await store.save(later), 'saved');
    assert.equal(await store.save(set('2026-11-27T03:00:00.000Z', 'AAAA01')), 'stale');
    assert.deepEqual(await store.load(), later);
  });

  it('an unreachable table is DependencyUnavailable, naming the operation', async () => {
    const missing = new DynamoPlatformKeyStore(db, `${table}-missing`);
    await assert.rejects(missing.load(), (error: unknown) => {
      assert.ok(error instanceof DependencyUnavailable);
      assert.match(error.message, /DynamoDB unavailable: GetItem failed: ResourceNotFoundException/);
      return true;
    });
    await assert.rejects(missing.save(set('2026-11-27T00:00:00.000Z', 'AAAA01')), /PutItem failed/);
  });
});
