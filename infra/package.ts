/**
 * `serverless package` offline (dummy credentials, an empty HOME, no profile from the caller's machine), cached by
 * the content of everything it reads. The template tests and the validators (infra/validate) all read the same
 * packaged template; packaging takes 10–20 s of CPU, so one run of `npm test` packages each parameter set once,
 * and an unchanged tree is not packaged again at all.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const oslsBin = createRequire(import.meta.url).resolve('osls/bin/serverless.js');
const cacheRoot = join(repoRoot, 'node_modules/.cache/packaged-template');
const TEMPLATE = 'cloudformation-template-update-stack.json';

/** Top-level entries `serverless package` never reads; everything else is copied (and hashed). */
const NOT_PACKAGED = new Set(['node_modules', '.git', '.esbuild', '.serverless', '.local', 'test', 'bench']);

export interface Packaged<T> {
  /** Where the template and the function zips are (read-only: shared with other callers). */
  dir: string;
  template: T;
}

async function files(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (dir === repoRoot && NOT_PACKAGED.has(entry.name)) continue;
    if (entry.isDirectory()) found.push(...(await files(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found.sort();
}

/** Everything the result depends on: the service's files, the lockfile (the bundled code), stage and parameters. */
async function cacheKey(stage: string, params: Record<string, string>): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify({ stage, params }));
  for (const file of [...(await files(repoRoot)), join(repoRoot, 'package-lock.json')]) {
    hash.update(relative(repoRoot, file)).update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 32);
}

/**
 * A copy of the service to package from: serverless-esbuild builds in `<service>/.esbuild` and deletes it when
 * done, so two packagings of the repository itself at once would race.
 */
async function serviceCopy(): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), 'sls-service-'));
  for (const entry of await readdir(repoRoot)) {
    if (!NOT_PACKAGED.has(entry)) await cp(join(repoRoot, entry), join(copy, entry), { recursive: true });
  }
  await symlink(join(repoRoot, 'node_modules'), join(copy, 'node_modules'), 'dir');
  return copy;
}

async function runPackage(outDir: string, stage: string, params: Record<string, string>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'sls-home-'));
  const service = await serviceCopy();
  const { AWS_PROFILE: _profile, AWS_SESSION_TOKEN: _token, ...inherited } = process.env;
  const cliParams = Object.entries(params).flatMap(([name, value]) => ['--param', `${name}=${value}`]);
  try {
    await promisify(execFile)(
      process.execPath,
      [oslsBin, 'package', '--stage', stage, '--package', outDir, ...cliParams],
      {
        cwd: service,
        env: {
          ...inherited,
          HOME: home,
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`serverless package failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  } finally {
    await rm(home, { recursive: true, force: true });
    await rm(service, { recursive: true, force: true });
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
const LOCK_STALE_MS = 5 * 60_000;

/**
 * Waits for another process's packaging of the same key, or takes the lock and packages. The lock is a
 * directory (mkdir is atomic); one older than LOCK_STALE_MS belongs to a process that died and is taken over.
 */
async function lockOrWait(dir: string, lock: string): Promise<boolean> {
  for (;;) {
    if (await exists(join(dir, TEMPLATE))) return false;
    try {
      await mkdir(lock);
      return true;
    } catch {
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > LOCK_STALE_MS) await rm(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Keeps the KEEP newest packagings: each one holds the function zips, and every code change makes a new one. */
const KEEP = 6;
async function prune(): Promise<void> {
  const entries = await Promise.all(
    (await readdir(cacheRoot)).map(async (name) => {
      const path = join(cacheRoot, name);
      return { path, mtime: (await stat(path)).mtimeMs };
    }),
  );
  const old = entries.sort((a, b) => b.mtime - a.mtime).slice(KEEP);
  await Promise.all(old.map(({ path }) => rm(path, { recursive: true, force: true })));
}

export async function packageTemplate<T>(options: {
  stage: string;
  params: Record<string, string>;
}): Promise<Packaged<T>> {
  const { stage, params } = options;
  const dir = join(cacheRoot, await cacheKey(stage, params));
  await mkdir(cacheRoot, { recursive: true });
  const lock = `${dir}.lock`;
  if (await lockOrWait(dir, lock)) {
    const building = await mkdtemp(`${dir}.building-`);
    try {
      await runPackage(building, stage, params);
      await rename(building, dir);
      await prune();
    } finally {
      await rm(building, { recursive: true, force: true });
      await rm(lock, { recursive: true, force: true });
    }
  }
  return { dir, template: JSON.parse(await readFile(join(dir, TEMPLATE), 'utf8')) as T };
}
