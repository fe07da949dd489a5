/**
 * `npm run bench`: runs each phase in its own process, one after the other (they share two cores, so never
 * in parallel), prints the table and writes bench/results.json. See bench/README.md for what each number is.
 */
import { fork } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, arch as osArch, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import type { Phase, PhaseResult } from './child';
import { round } from './measure';
import { type Machine, type PhaseResults, results, table } from './report';

const PHASES = [
  'crypto',
  'presign',
  'notify',
  'keepalive',
  'bundles',
  'first',
  'local',
  'repaymentDay',
] as const satisfies readonly Phase[];
const here = import.meta.dirname;

function runPhase<P extends Phase>(phase: P): Promise<PhaseResult<P>> {
  return new Promise((resolve, reject) => {
    // stdout carries the handlers' JSON logs and EMF metrics: real work, but not for the terminal.
    const child = fork(join(here, 'child.ts'), [phase], {
      execArgv: ['--import', 'tsx', '--no-warnings'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let result: PhaseResult<P> | undefined;
    child.once('message', (message) => {
      result = message as PhaseResult<P>;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (result !== undefined) resolve(result);
      else reject(new Error(`phase ${phase} ended (${signal ?? `exit code ${code}`}) without a result`));
    });
  });
}

const started = Date.now();
const loadStart = loadavg()[0] as number;
const collected: Partial<PhaseResults> = {};
for (const phase of PHASES) {
  const t0 = Date.now();
  process.stderr.write(`bench: ${phase} ...`);
  Object.assign(collected, { [phase]: await runPhase(phase) });
  process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
const phases = collected as PhaseResults;
const machine: Machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: availableParallelism(),
  memory_gb: round(totalmem() / 2 ** 30, 1),
  node: process.version,
  os: `${type()} ${release()} ${osArch()}`,
  date: new Date(started).toISOString(),
  loadavg_start: round(loadStart),
  loadavg_end: round(loadavg()[0] as number),
  duration_s: round((Date.now() - started) / 1000, 1),
};
await writeFile(join(here, 'results.json'), `${JSON.stringify(results(phases, machine), null, 2)}\n`);
console.log(table(phases, machine));
console.log(`\nwritten: ${join(here, 'results.json')}`);
