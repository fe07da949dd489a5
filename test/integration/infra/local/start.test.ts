import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertPortFree, freePort } from '../../../../infra/local/ports';

/* `npm start` as a developer runs it: a child process, its console output, Ctrl-C. */

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 15_000;

type Ports = Record<
  | 'PORT'
  | 'LAMBDA_PORT'
  | 'STATES_PORT'
  | 'SQS_PORT'
  | 'SIMULATOR_PORT'
  | 'KMS_PORT'
  | 'DYNAMODB_PORT'
  | 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT',
  number
>;

async function distinctFreePorts(): Promise<Ports> {
  const taken = new Set<number>();
  const next = async (host: string) => {
    for (;;) {
      const port = await freePort(host);
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  // DynamoDB Local binds every interface, so its port must be free on all of them.
  return {
    PORT: await next('127.0.0.1'),
    LAMBDA_PORT: await next('127.0.0.1'),
    STATES_PORT: await next('127.0.0.1'),
    SQS_PORT: await next('127.0.0.1'),
    SIMULATOR_PORT: await next('127.0.0.1'),
    KMS_PORT: await next('127.0.0.1'),
    DYNAMODB_PORT: await next('0.0.0.0'),
    PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: await next('127.0.0.1'),
  };
}

/**
 * The test runner points this process at its shared stand-ins; start.ts must start all four parts itself,
 * so every configuration variable it would honour is left out (the schedules' speed-up too: its default is
 * under test).
 */
function childEnv(ports: Ports, dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(WECHATPAY_|AWS_ENDPOINT_URL_)/.test(name)) continue;
    const own = ['CONTRACTS_TABLE', 'NOTIFICATIONS_TABLE', 'EVENT_BUS_NAME', 'NODE_TEST_CONTEXT'];
    if ([...own, 'LOCAL_SCHEDULE_SPEEDUP'].includes(name)) continue;
    env[name] = value;
  }
  for (const [name, port] of Object.entries(ports)) env[name] = String(port);
  return { ...env, LOCAL_DATA_DIR: dataDir };
}

interface Started {
  child: ChildProcess;
  startedAt: number;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startNpmStart(env: NodeJS.ProcessEnv): Started {
  // Its own process group, so the cleanup below can reach the JVM too if start.ts itself misbehaves.
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => stdout.push(l));
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) => stderr.push(l));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, startedAt: Date.now(), stdout, stderr, exited };
}

const transcript = (s: Started) => `stdout:\n${s.stdout.join('\n')}\nstderr:\n${s.stderr.join('\n')}`;

async function waitFor<T>(what: string, s: Started, ms: number, found: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  let exited = false;
  void s.exited.then(() => {
    exited = true;
  });
  for (;;) {
    const value = found();
    if (value !== undefined) return value;
    if (exited) throw new Error(`start.ts exited before ${what}\n${transcript(s)}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms\n${transcript(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function exitOf(s: Started): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`start.ts still running ${EXIT_TIMEOUT_MS} ms later\n${transcript(s)}`)),
      EXIT_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([s.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Only a test that already failed gets here with the child alive; take its whole group down. */
function killGroup(s: Started): void {
  if (s.child.exitCode !== null || s.child.signalCode !== null || !s.child.pid) return;
  try {
    process.kill(-s.child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

async function assertAllFree(ports: Ports): Promise<void> {
  for (const [name, port] of Object.entries(ports)) {
    await assertPortFree(port, name === 'DYNAMODB_PORT' ? '0.0.0.0' : '127.0.0.1', name);
  }
}

function listen(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** `  curl -s -X POST <url> -H '<header>' -d '<json>'`, as printed under the READY line. */
function parseCurl(line: string): { url: string; headers: Record<string, string>; body: string } {
  const m = /^\s*curl -s -X POST (\S+) -H '([^':]+): ([^']+)' -d '([^']*)'$/.exec(line);
  if (!m) throw new Error(`not a copy-pasteable presign curl: ${line}`);
  const [, url, name, value, body] = m as unknown as [string, string, string, string, string];
  return { url, headers: { [name]: value }, body };
}

describe('npm start (infra/local/start.ts)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'npm-start-'));
  const children: Started[] = [];
  after(() => {
    for (const s of children) killGroup(s);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints READY with every URL and a working curl, and Ctrl-C leaves nothing listening', async (t) => {
    const ports = await distinctFreePorts();
    const s = startNpmStart(childEnv(ports, dataDir));
    children.push(s);

    const ready = await waitFor('READY line', s, READY_TIMEOUT_MS, () =>
      s.stdout.find((l) => l.startsWith('READY in ')),
    );
    const wall = Date.now() - s.startedAt;
    const reported = /^READY in ([\d.]+) s/.exec(ready)?.[1];
    t.diagnostic(`time to READY: ${reported} s reported by start.ts, ${wall} ms from spawn`);
    const api = `http://127.0.0.1:${ports.PORT}`;
    for (const url of [
      `API ${api}`,
      `demo ${api}/demo`,
      `OpenAPI ${api}/openapi.json`,
      `clock ${api}/local/clock`,
      `schedules ${api}/local/schedules`,
      `Lambda http://127.0.0.1:${ports.LAMBDA_PORT}`,
      `Step Functions http://127.0.0.1:${ports.STATES_PORT}`,
      `SQS http://127.0.0.1:${ports.SQS_PORT}`,
      `WeChat Pay http://127.0.0.1:${ports.SIMULATOR_PORT}`,
      `KMS http://127.0.0.1:${ports.KMS_PORT}`,
      `DynamoDB http://127.0.0.1:${ports.DYNAMODB_PORT}`,
      `secrets localhost:${ports.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT}`,
    ]) {
      assert.ok(ready.includes(url), `READY line names ${url}: ${ready}`);
    }

    const curlLine = await waitFor('curl line', s, 5_000, () => s.stdout.find((l) => /^\s*curl /.test(l)));
    const curl = parseCurl(curlLine);
    assert.equal(curl.url, `${api}/contracts/h5-presign`);
    const res = await fetch(curl.url, { method: 'POST', headers: curl.headers, body: curl.body });
    const answer = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 201, JSON.stringify(answer));
    assert.equal(answer.state, 'PRESIGNED');
    assert.equal(
      answer.out_contract_code,
      (JSON.parse(curl.body) as Record<string, unknown>).out_contract_code,
    );
    assert.ok(
      String(answer.redirect_url).startsWith(`http://127.0.0.1:${ports.SIMULATOR_PORT}/sign?token=`),
      String(answer.redirect_url),
    );

    // The Lambda Invoke API, the test clock and the schedules (at the documented default speed-up) are live.
    const invoked = await fetch(
      `http://127.0.0.1:${ports.LAMBDA_PORT}/2015-03-31/functions/certificates/invocations`,
      { method: 'POST', body: '{}' },
    );
    assert.equal(invoked.status, 200);
    assert.deepEqual(await invoked.json(), { enabled: false, certificates: [] });
    const clock = (await (await fetch(`${api}/local/clock`)).json()) as { offset_s: number };
    assert.equal(clock.offset_s, 0);
    assert.ok(
      s.stdout.some((l) => l.includes('reconcile on rate(5 minutes), 10× faster than the test clock')),
      transcript(s),
    );

    // Only start.ts gets the signal: stopping the JVM and the servers is its job, not the terminal's.
    s.child.kill('SIGINT');
    const { code, signal } = await exitOf(s);
    assert.equal(code, 0, `exit ${code ?? signal}\n${transcript(s)}`);
    assert.ok(
      s.stdout.some((l) => l.includes('SIGINT: stopping every part')),
      transcript(s),
    );
    await assertAllFree(ports);
    assert.ok(
      existsSync(join(dataDir, 'wechatpay-platform-key.pem')),
      'generated keys went to LOCAL_DATA_DIR, not the .local/ of the checkout',
    );
  });

  for (const variable of ['PORT', 'LAMBDA_PORT'] as const) {
    it(`refuses a busy ${variable}, naming the variable, and starts nothing`, async () => {
      const ports = await distinctFreePorts();
      const squatter = await listen(ports[variable], '127.0.0.1');
      try {
        const s = startNpmStart(childEnv(ports, dataDir));
        children.push(s);
        const { code } = await exitOf(s);
        assert.notEqual(code, 0, transcript(s));
        assert.ok(
          s.stderr.some((l) => l.includes(`port ${ports[variable]} is busy; set ${variable} to move it`)),
          transcript(s),
        );
        assert.ok(!s.stdout.some((l) => l.startsWith('READY')), transcript(s));
      } finally {
        squatter.close();
      }
      await assertAllFree(ports);
    });
  }

  it('refuses a LOCAL_SCHEDULE_SPEEDUP that is not a factor, naming it, and starts nothing', async () => {
    const ports = await distinctFreePorts();
    const s = startNpmStart({ ...childEnv(ports, dataDir), LOCAL_SCHEDULE_SPEEDUP: '0.5' });
    children.push(s);
    const { code } = await exitOf(s);
    assert.notEqual(code, 0, transcript(s));
    assert.ok(
      s.stderr.some((l) =>
        l.includes('LOCAL_SCHEDULE_SPEEDUP=0.5 is not a factor: use 0 (off), 1 (real time) or more'),
      ),
      transcript(s),
    );
    await assertAllFree(ports);
  });
});
