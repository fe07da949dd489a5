/**
 * Runs one benchmark phase in its own process: `node --import tsx bench/child.ts <phase>`. Phases are isolated
 * because lib/aws/ keeps one AWS client of each kind per process, because each phase sets its own environment, and
 * so that one phase's garbage and JIT state do not colour the next one's numbers. The result goes back over
 * the IPC channel when forked by run.ts, or to stderr when run by hand (stdout carries the handlers' logs).
 */
const phases = {
  crypto: () => import('./crypto'),
  presign: () => import('./presign'),
  notify: () => import('./notify'),
  keepalive: () => import('./keepalive'),
  bundles: () => import('./bundles'),
  first: () => import('./first'),
  local: () => import('./local'),
  repaymentDay: () => import('./repayment-day'),
};

export type Phase = keyof typeof phases;
export type PhaseResult<P extends Phase> = Awaited<
  ReturnType<Awaited<ReturnType<(typeof phases)[P]>>['run']>
>;

const isPhase = (name: string | undefined): name is Phase => name !== undefined && name in phases;

const name = process.argv[2];
if (!isPhase(name)) throw new Error(`unknown phase ${name} (known: ${Object.keys(phases).join(', ')})`);
const result = await (await phases[name]()).run();
const send = process.send?.bind(process);
if (send) await new Promise<void>((resolve) => send(result, undefined, {}, () => resolve()));
else console.error(JSON.stringify(result, null, 2));
// Keep-alive sockets and SDK clients would otherwise hold the process open.
process.exit(0);
