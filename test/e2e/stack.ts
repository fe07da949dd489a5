import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { bookedOn, demoRoutes } from '../../infra/local/demo';
import { startTestStack, type TestStack } from '../support/local/stack';

/** The stack `npm start` runs, demo page included (composed the way infra/local/start.ts does it). */
export async function startE2eStack(): Promise<TestStack> {
  let apiUrl = '';
  let stack: TestStack | undefined;
  const demo = demoRoutes({
    apiUrl: () => apiUrl,
    openapiPath: fileURLToPath(new URL('../../docs/openapi.json', import.meta.url)),
    bookings: bookedOn(() => stack?.repaymentEvents ?? []),
  });
  stack = await startTestStack({ extra: demo });
  apiUrl = stack.api.url;
  return stack;
}

/** Polls GET /contracts/{code} until it reads `state`; fails with the last answer seen. */
export async function waitForState(
  stack: TestStack,
  code: string,
  state: string,
  ms = 15_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await stack.request('GET', `/contracts/${code}`);
    if (res.status === 200 && res.body.state === state) return res.body;
    if (Date.now() > deadline) {
      throw new Error(
        `contract ${code} not ${state} after ${ms} ms: ${res.status} ${JSON.stringify(res.body)}`,
      );
    }
    await sleep(200);
  }
}
