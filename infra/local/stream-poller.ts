/**
 * The local stand-in for Lambda's DynamoDB stream event source mapping: reads a table's stream from DynamoDB
 * Local and hands records to a handler in Lambda's event shape, in order per shard, parents before children.
 * Like Lambda it is at-least-once: a thrown error or a `batchItemFailures` answer re-delivers from the failed
 * record after a delay, and nothing after it is delivered until that record is accepted.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type AttributeValue as SdkAttributeValue,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { lambdaContext } from './lambda-context';

export interface StreamPoller {
  stop(): Promise<void>;
  /** Resolves once every record written so far was delivered; rejects after `timeoutMs` saying what is stuck. */
  drain(timeoutMs?: number): Promise<void>;
}

export type StreamHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
  // biome-ignore lint/suspicious/noConfusingVoidType: a Lambda handler may return nothing at all.
) => Promise<{ batchItemFailures?: { itemIdentifier: string }[] } | undefined | void>;

export interface StreamPollerOptions {
  /** DynamoDB Local. */
  endpoint: string;
  tableName: string;
  handler: StreamHandler;
  /** Pause between polls of the stream while records are coming. */
  intervalMs?: number;
  /**
   * Pause between polls once a poll found nothing (default 250 ms, the four polls a second per shard of Lambda's
   * event source mapping); a record brings back `intervalMs`, and drain() polls at once.
   */
  idleIntervalMs?: number;
  /** Pause before a failed record is delivered again. */
  retryDelayMs?: number;
  log?: (line: string) => void;
}

/** Lambda's default batch size for DynamoDB streams, and GetRecords' page size here. */
const BATCH_SIZE = 100;
const DRAIN_TIMEOUT_MS = 30_000;
/**
 * A stream gains a shard only when one closes (the shards a pass reads say so) or rolls over, so listing them on
 * every poll doubled the poller's calls for nothing, and each call costs DynamoDB Local and this process a few
 * milliseconds of CPU on a two-core machine. They are listed at most this often, and on every poll a drain()
 * waits for, so that a drain still sees every shard.
 */
const DISCOVER_EVERY_MS = 1000;

interface Shard {
  id: string;
  parentId?: string;
  iterator?: string;
  /** Sequence number of the last record read: where a lost or expired iterator resumes. */
  lastRead?: string;
  /** Read but not yet accepted by the handler; delivered again until it is. */
  pending: DynamoDBRecord[];
  /** GetRecords returned no next iterator: the shard will never have more records. */
  closed: boolean;
  retryAt: number;
}

interface DrainWaiter {
  /** The first pass that started after drain() was called; only such a pass saw every earlier write. */
  fromPass: number;
  resolve(): void;
  reject(error: Error): void;
}

const why = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const { tableName, handler } = options;
  const intervalMs = options.intervalMs ?? 100;
  const idleIntervalMs = Math.max(intervalMs, options.idleIntervalMs ?? 250);
  const retryDelayMs = options.retryDelayMs ?? 500;
  const log = options.log ?? (() => {});
  const clientConfig = {
    endpoint: options.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const streams = new DynamoDBStreamsClient(clientConfig);
  const streamArn = await latestStreamArn(new DynamoDBClient(clientConfig), tableName, options.endpoint);
  const shards = new Map<string, Shard>();
  let passes = 0;
  let lastError: string | undefined;
  let stopped = false;
  const waiters = new Set<DrainWaiter>();
  let discoveredAt = Number.NEGATIVE_INFINITY;
  /** A shard closed since the shards were last listed: its children are listed next. */
  let closedSince = false;
  /** Ends the pause between polls early (a drain, a stop). */
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function discoverShards(): Promise<void> {
    discoveredAt = Date.now();
    closedSince = false;
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription: stream } = await streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      for (const { ShardId: id, ParentShardId: parentId } of stream?.Shards ?? []) {
        if (!id || shards.has(id)) continue;
        shards.set(id, { id, ...(parentId ? { parentId } : {}), pending: [], closed: false, retryAt: 0 });
        log(`stream ${tableName}: reading shard ${id}${parentId ? ` (after ${parentId})` : ''}`);
      }
      exclusiveStartShardId = stream?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
  }

  const finished = (id: string | undefined): boolean => {
    const shard = id === undefined ? undefined : shards.get(id);
    // A parent no longer listed has been trimmed: there is nothing left to wait for.
    return !shard || (shard.closed && shard.pending.length === 0);
  };

  async function read(shard: Shard): Promise<void> {
    shard.iterator ??= await iteratorFor(shard);
    let output: GetRecordsCommandOutput;
    try {
      output = await streams.send(
        new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: BATCH_SIZE }),
      );
    } catch (error) {
      // Iterators expire after 15 minutes (e.g. while a failing record is retried); resume from lastRead.
      shard.iterator = undefined;
      throw error;
    }
    const records = output.Records ?? [];
    shard.pending = records.map((r) => lambdaRecord(r, streamArn));
    shard.lastRead = records.at(-1)?.dynamodb?.SequenceNumber ?? shard.lastRead;
    shard.iterator = output.NextShardIterator;
    shard.closed = output.NextShardIterator === undefined;
    if (shard.closed) closedSince = true;
  }

  async function iteratorFor(shard: Shard): Promise<string | undefined> {
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.id,
        ...(shard.lastRead
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.lastRead }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return ShardIterator;
  }

  async function deliver(shard: Shard): Promise<void> {
    const batch = shard.pending;
    let failedAt: number;
    try {
      // Through JSON, as Lambda delivers it: a handler cannot depend on SDK types or mutate our copy.
      const event = JSON.parse(JSON.stringify({ Records: batch })) as DynamoDBStreamEvent;
      const result = await handler(event, lambdaContext(`${tableName}-stream`));
      failedAt = firstFailure(batch, result?.batchItemFailures ?? []);
      if (failedAt >= 0)
        lastError = `handler reported ${batch[failedAt]?.dynamodb?.SequenceNumber} as failed`;
    } catch (error) {
      failedAt = 0;
      lastError = `handler threw ${why(error)}`;
    }
    if (failedAt < 0) {
      shard.pending = [];
      return;
    }
    shard.pending = batch.slice(failedAt);
    shard.retryAt = Date.now() + retryDelayMs;
    log(
      `stream ${tableName}: ${lastError}; delivering ${shard.pending.length} record(s) again in ${retryDelayMs} ms`,
    );
  }

  /** One look at every shard; true when nothing was waiting to be read or delivered. */
  async function pass(): Promise<boolean> {
    if (waiters.size > 0 || closedSince || Date.now() - discoveredAt >= DISCOVER_EVERY_MS) {
      await discoverShards();
    }
    let idle = true;
    for (const shard of shards.values()) {
      if (finished(shard.id)) continue;
      if (!finished(shard.parentId)) {
        idle = false;
        continue;
      }
      if (shard.pending.length === 0) await read(shard);
      if (shard.pending.length === 0) continue;
      idle = false;
      if (Date.now() >= shard.retryAt) await deliver(shard);
    }
    return idle;
  }

  async function loop(): Promise<void> {
    while (!stopped) {
      const number = ++passes;
      let idle = false;
      try {
        idle = await pass();
        if (idle) {
          for (const waiter of waiters) if (waiter.fromPass <= number) waiter.resolve();
        }
      } catch (error) {
        lastError = `polling failed: ${why(error)}`;
        log(`stream ${tableName}: ${lastError}; polling again in ${intervalMs} ms`);
      }
      // A drain that came during this pass polls again at once: it waits for a pass that started after it.
      if (!stopped && ![...waiters].some((w) => w.fromPass > number)) {
        await pause(idle ? idleIntervalMs : intervalMs);
      }
    }
  }

  await discoverShards();
  const running = loop();

  return {
    drain(timeoutMs = DRAIN_TIMEOUT_MS) {
      if (stopped) return Promise.reject(new Error(`stream poller of ${tableName} is stopped`));
      return new Promise<void>((resolve, reject) => {
        const settle = (error?: Error) => {
          clearTimeout(timer);
          waiters.delete(waiter);
          if (error) reject(error);
          else resolve();
        };
        const waiter: DrainWaiter = { fromPass: passes + 1, resolve: () => settle(), reject: settle };
        const timer = setTimeout(() => {
          const pending = [...shards.values()].reduce((sum, s) => sum + s.pending.length, 0);
          settle(
            new Error(
              `stream of ${tableName} not drained after ${timeoutMs} ms: ${pending} record(s) undelivered` +
                (lastError ? `; last problem: ${lastError}` : ''),
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
        wake?.();
      });
    },
    async stop() {
      stopped = true;
      wake?.();
      await running;
      for (const waiter of waiters)
        waiter.reject(new Error(`stream poller of ${tableName} stopped before it drained`));
      streams.destroy();
    },
  };
}

async function latestStreamArn(client: DynamoDBClient, tableName: string, endpoint: string): Promise<string> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName })).catch((error) => {
      throw new Error(`cannot describe table ${tableName} at ${endpoint}: ${why(error)}`, { cause: error });
    });
    if (!Table?.StreamSpecification?.StreamEnabled || !Table.LatestStreamArn) {
      throw new Error(`table ${tableName} has no stream: give it a StreamSpecification (NEW_AND_OLD_IMAGES)`);
    }
    return Table.LatestStreamArn;
  } finally {
    client.destroy();
  }
}

/**
 * Index of the earliest record Lambda would retry from, or -1 when all succeeded. Like Lambda, an identifier
 * that names no record of the batch (empty, unknown) fails the whole batch.
 */
function firstFailure(batch: DynamoDBRecord[], failures: { itemIdentifier: string }[]): number {
  if (failures.length === 0) return -1;
  const indexes = failures.map((f) =>
    batch.findIndex((r) => r.dynamodb?.SequenceNumber === f.itemIdentifier),
  );
  return indexes.includes(-1) ? 0 : Math.min(...indexes);
}

function lambdaRecord(record: _Record, eventSourceARN: string): DynamoDBRecord {
  const change = record.dynamodb;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion,
    eventSourceARN,
    dynamodb: {
      ApproximateCreationDateTime: change?.ApproximateCreationDateTime
        ? Math.floor(change.ApproximateCreationDateTime.getTime() / 1000)
        : undefined,
      Keys: image(change?.Keys),
      NewImage: image(change?.NewImage),
      OldImage: image(change?.OldImage),
      SequenceNumber: change?.SequenceNumber,
      SizeBytes: change?.SizeBytes,
      StreamViewType: change?.StreamViewType,
    },
  };
}

function image(
  item: Record<string, SdkAttributeValue> | undefined,
): Record<string, AttributeValue> | undefined {
  return item && Object.fromEntries(Object.entries(item).map(([name, value]) => [name, attribute(value)]));
}

/** Lambda's JSON carries binary as base64 text where the SDK has bytes; everything else is the same shape. */
function attribute(value: SdkAttributeValue): AttributeValue {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  if (value.B) return { B: base64(value.B) };
  if (value.BS) return { BS: value.BS.map(base64) };
  if (value.L) return { L: value.L.map(attribute) };
  if (value.M) return { M: image(value.M) ?? {} };
  return value as AttributeValue;
}
