/**
 * `node --import tsx bench/tracing.ts <option>`: presign's own CPU (presign.ts's instant stand-ins) in a fresh
 * process with one tracing option in place, printed as `TRACING <µs>`. A process each, because a tracer's hooks
 * cannot be removed once loaded and the JIT state one option leaves would colour the next.
 * - before_handler: nothing else loaded;
 * - handler_loaded: functions/presign.ts loaded, as in Lambda (the chosen tracing, Lambda's own, adds nothing);
 * - opentelemetry_span: @opentelemetry/sdk-trace-node's provider registered, a span around each presign;
 * - xray_sdk_loaded: Powertools Tracer constructed, which loads aws-xray-sdk-core and its cls-hooked namespace.
 * The last two are devDependencies for this comparison only; no bundle holds them.
 */
import assert from 'node:assert/strict';
import { compare } from './measure';
import { instantPresign } from './presign';
import { TRACING_OPTIONS, type TracingOption } from './tracing-options';

const option = process.argv[2] as TracingOption;
if (!TRACING_OPTIONS.includes(option))
  throw new Error(`unknown option ${option} (${TRACING_OPTIONS.join(', ')})`);

const once = instantPresign();
let measured: () => Promise<unknown> = once;
if (option === 'handler_loaded') {
  const { handler } = await import('../functions/presign');
  assert.equal(typeof handler, 'function');
} else if (option === 'opentelemetry_span') {
  const { trace } = await import('@opentelemetry/api');
  const { BatchSpanProcessor, InMemorySpanExporter, NodeTracerProvider } = await import(
    '@opentelemetry/sdk-trace-node'
  );
  new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new InMemorySpanExporter())] }).register();
  const tracer = trace.getTracer('bench');
  measured = () =>
    tracer.startActiveSpan('presign', async (span) => {
      try {
        return await once();
      } finally {
        span.end();
      }
    });
} else if (option === 'xray_sdk_loaded') {
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  assert.ok(new Tracer({ serviceName: 'bench' }));
}
await measured();
const { us } = await compare({ presign: measured });
process.stdout.write(`TRACING ${us.presign}\n`);
process.exit(0);
