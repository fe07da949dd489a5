import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const oslsBin = createRequire(import.meta.url).resolve('osls/bin/serverless.js');

/** The deploy parameters without a default (serverless.yml `params`), as a real stage would pass them. */
export const PACKAGE_PARAMS = {
  wechatpayMchid: '1230000109',
  wechatpayMerchantSerialNo: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  wechatpayPublicKeyId: 'PUB_KEY_ID_0114232134912410000000000000',
};

/** Top-level entries `serverless package` never reads; everything else is copied. */
const NOT_PACKAGED = new Set(['node_modules', '.git', '.esbuild', '.serverless', '.local', 'test', 'bench']);

/**
 * A copy of the service to package from: serverless-esbuild builds in `<service>/.esbuild` and deletes it when
 * done, so two test files packaging the repository itself in parallel would race.
 */
async function serviceCopy(): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), 'sls-service-'));
  for (const entry of await readdir(repoRoot)) {
    if (!NOT_PACKAGED.has(entry)) await cp(join(repoRoot, entry), join(copy, entry), { recursive: true });
  }
  await symlink(join(repoRoot, 'node_modules'), join(copy, 'node_modules'), 'dir');
  return copy;
}

/**
 * `serverless package --stage citest` into `outDir`, offline: dummy credentials, an empty HOME, no profile from
 * the caller's machine. Returns the parsed CloudFormation template.
 */
export async function packageService<T>(outDir: string): Promise<T> {
  const home = await mkdtemp(join(tmpdir(), 'sls-home-'));
  const service = await serviceCopy();
  const { AWS_PROFILE: _profile, AWS_SESSION_TOKEN: _token, ...inherited } = process.env;
  const cliParams = Object.entries(PACKAGE_PARAMS).flatMap(([name, value]) => [
    '--param',
    `${name}=${value}`,
  ]);
  try {
    await promisify(execFile)(
      process.execPath,
      [oslsBin, 'package', '--stage', 'citest', '--package', outDir, ...cliParams],
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
  return JSON.parse(await readFile(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')) as T;
}
