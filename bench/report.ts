/** Turns the phases' results into bench/results.json and the table `npm run bench` prints. */
import type { BundlesResult, FunctionName } from './bundles';
import { FUNCTIONS, REFERENCE_OF, SPEC_FLOOR_OF } from './bundles';
import type { CryptoResult, Duel } from './crypto';
import type { FirstResult } from './first';
import type { KeepAliveResult, Reuse } from './keepalive';
import type { LocalResult } from './local';
import type { NotifyResult } from './notify';
import type { PresignResult } from './presign';
import type { RepaymentDayResult } from './repayment-day';

export interface Machine {
  cpu: string;
  cores: number;
  memory_gb: number;
  node: string;
  os: string;
  date: string;
  /** 1-minute load average before and after the run: other processes show up in every timing. */
  loadavg_start: number;
  loadavg_end: number;
  duration_s: number;
}

export interface PhaseResults {
  crypto: CryptoResult;
  presign: PresignResult;
  notify: NotifyResult;
  keepalive: KeepAliveResult;
  bundles: BundlesResult;
  first: FirstResult;
  local: LocalResult;
  repaymentDay: RepaymentDayResult;
}

/** The share of the signing budget a repayment day must use. */
const BUDGET_USED_GOAL = 0.85;

export interface Goal {
  goal: string;
  value: string;
  met: boolean;
}

const COLD_LOAD_LIMIT = 1.15;
/** Above this, the tracing choice taxes presign's own CPU (the X-Ray SDK's hooks cost +29%); below it is noise. */
const TRACING_TAX_LIMIT = 1.1;

/** The clients a function bundles for a rare path and must not evaluate at cold start. */
const LAZY_CLIENTS: {
  fn: FunctionName;
  client: string;
  usedFor: string;
  loaded: (b: BundlesResult) => boolean;
  bundled: (b: BundlesResult) => boolean;
}[] = [
  {
    fn: 'notify',
    client: 'KMS',
    usedFor: 'certificate-mode refresh',
    loaded: (b) => b.kms_loaded_at_cold_start.notify,
    bundled: (b) => b.kms_client.notify,
  },
  {
    fn: 'publish',
    client: 'DynamoDB',
    usedFor: 'keeping refused events',
    loaded: (b) => b.dynamodb_loaded_at_cold_start.publish,
    bundled: (b) => b.dynamodb_client.publish,
  },
];

const tracingTax = (r: PhaseResults): number =>
  r.presign.tracing_us.handler_loaded / r.presign.tracing_us.before_handler;

export function goals(r: PhaseResults): Goal[] {
  const reuse = (name: string, x: Reuse): Goal => ({
    goal: `${name}: one connection for ${x.calls} sequential calls`,
    value: `${x.connections} connection${x.connections === 1 ? '' : 's'}`,
    met: x.connections === 1,
  });
  return [
    {
      goal: 'callback_ratio ≤ 1.0',
      value: fixed(r.crypto.callback.ratio, 3),
      met: r.crypto.callback.ratio <= 1,
    },
    { goal: 'sign_ratio ≤ 1.0', value: fixed(r.crypto.sign.ratio, 3), met: r.crypto.sign.ratio <= 1 },
    {
      goal: 'presign_overhead_us < 500',
      value: fixed(r.presign.overhead_us, 1),
      met: r.presign.overhead_us < 500,
    },
    {
      goal: 'presign_overlap_ratio ≤ 1.05',
      value: fixed(r.presign.overlap.ratio, 3),
      met: r.presign.overlap.ratio <= 1.05,
    },
    {
      goal: `no per-promise tax: presign's own CPU with the handler loaded ≤ ${TRACING_TAX_LIMIT} × without`,
      value: `${fixed(tracingTax(r), 3)} ×`,
      met: tracingTax(r) <= TRACING_TAX_LIMIT,
    },
    ...FUNCTIONS.map((fn) => ({
      goal: `cold_load_ms.${fn} ≤ ${COLD_LOAD_LIMIT} × ${REFERENCE_OF[fn]} (Node ${process.versions.node.split('.')[0]})`,
      value: `${fixed(r.bundles.cold_load_ratio[fn], 2)} ×`,
      met: r.bundles.cold_load_ratio[fn] <= COLD_LOAD_LIMIT,
    })),
    ...FUNCTIONS.map((fn) => {
      const ratio = r.bundles.node24?.cold_load_ratio[fn];
      return {
        goal: `cold_load_ms.${fn} ≤ ${COLD_LOAD_LIMIT} × ${REFERENCE_OF[fn]} (Node 24)`,
        value: ratio === undefined ? 'not measured (no Node 24: bench/node24.ts)' : `${fixed(ratio, 2)} ×`,
        met: ratio !== undefined && ratio <= COLD_LOAD_LIMIT,
      };
    }),
    {
      goal: 'no bundle holds an SSM or Secrets Manager client, Powertools Parameters or Tracer, or the X-Ray SDK',
      value: forbiddenSummary(r.bundles),
      met: FUNCTIONS.every((fn) => r.bundles.forbidden_in_bundle[fn].length === 0),
    },
    ...LAZY_CLIENTS.map((c) => ({
      goal: `the ${c.fn} function loads no ${c.client} client at cold start`,
      value: c.loaded(r.bundles) ? 'loads it' : 'none',
      met: !c.loaded(r.bundles),
    })),
    reuse('WeChat Pay', r.keepalive.wechatpay),
    reuse('DynamoDB', r.keepalive.dynamodb),
    reuse('KMS', r.keepalive.kms),
    {
      goal: `repayment day: signs / budget ≥ ${BUDGET_USED_GOAL}`,
      value: fixed(r.repaymentDay.budget_used, 3),
      met: r.repaymentDay.budget_used >= BUDGET_USED_GOAL,
    },
    {
      goal: 'repayment day: every booking ordered exactly once, none open',
      value: `${r.repaymentDay.exactly_once} of ${r.repaymentDay.bookings}, ${r.repaymentDay.open} open`,
      met: r.repaymentDay.not_once === 0 && r.repaymentDay.open === 0,
    },
    {
      goal: 'clients reused across invocations',
      value: r.keepalive.deps_reused ? 'same clients' : 'rebuilt',
      met: r.keepalive.deps_reused,
    },
  ];
}

/** results.json: the goal keys at the top level, the detail beside them. */
export function results(r: PhaseResults, machine: Machine): Record<string, unknown> {
  const { callback, sign } = r.crypto;
  const { bundles } = r;
  return {
    machine,
    callback_verify_decrypt_us: callback.ours_us,
    peer_callback_verify_decrypt_us: callback.peers_us[callback.best_peer],
    callback_ratio: callback.ratio,
    request_sign_us: sign.ours_us,
    peer_request_sign_us: sign.peers_us[sign.best_peer],
    sign_ratio: sign.ratio,
    presign_overhead_us: r.presign.overhead_us,
    presign_handler_overhead_us: r.presign.handler_overhead_us,
    presign_tracing_us: r.presign.tracing_us,
    presign_overlap_ratio: r.presign.overlap.ratio,
    callback_use_case_us: r.notify.use_case_us,
    callback_handler_us: r.notify.handler_us,
    bundle_bytes: bundles.bundle_bytes,
    cold_load_ms: bundles.cold_load_ms,
    cold_load_ratio: bundles.cold_load_ratio,
    cold_load_spec_ratio: bundles.cold_load_spec_ratio,
    cold_load_ms_node24: bundles.node24?.cold_load_ms ?? null,
    cold_load_ratio_node24: bundles.node24?.cold_load_ratio ?? null,
    first_invocation: r.first,
    local_callbacks_per_s: r.local.callbacks_per_s,
    repayment_day_budget_used: r.repaymentDay.budget_used,
    repayment_day_job_cpu_us_per_booking: r.repaymentDay.job_cpu_us_per_booking,
    goals: goals(r),
    detail: {
      callback,
      sign,
      presign_handler_parts_us: r.presign.handler_parts_us,
      presign_overlap: r.presign.overlap,
      cold_load_cpu_ms: bundles.cold_load_cpu_ms,
      cold_load_runs: bundles.runs,
      cold_load_attribution_ms: bundles.attribution_ms,
      node24: bundles.node24,
      forbidden_in_bundle: bundles.forbidden_in_bundle,
      kms_client_in_bundle: bundles.kms_client,
      kms_loaded_at_cold_start: bundles.kms_loaded_at_cold_start,
      dynamodb_client_in_bundle: bundles.dynamodb_client,
      dynamodb_loaded_at_cold_start: bundles.dynamodb_loaded_at_cold_start,
      bundle_top_packages: bundles.top_packages,
      keep_alive: r.keepalive,
      local: r.local,
      repayment_day: r.repaymentDay,
    },
  };
}

export function table(r: PhaseResults, machine: Machine): string {
  const { callback, sign } = r.crypto;
  const parts = r.presign.handler_parts_us;
  const mark = (met: boolean) => (met ? 'yes' : 'NO');
  const duel = (what: string, d: Duel, floorName: string): string[][] => [
    [
      what,
      fixed(d.ours_us, 2),
      `${fixed(d.peers_us[d.best_peer] as number, 2)} ${d.best_peer}`,
      fixed(d.ratio, 3),
      '≤ 1.00',
      `${mark(d.ratio <= 1)} (rounds ${d.ratio_range[0]}–${d.ratio_range[1]})`,
    ],
    ...Object.entries(d.peers_us)
      .filter(([peer]) => peer !== d.best_peer)
      .map(([peer, us]) => ['', '', `${fixed(us, 2)} ${peer}`, fixed(d.ours_us / us, 3), '', '']),
    ['', '', `${fixed(d.floor_us, 2)} ${floorName}`, fixed(d.ours_us / d.floor_us, 3), '', ''],
  ];
  const rows: string[][] = [
    ...duel('callback verify + decrypt (µs)', callback, 'bare RSA verify (floor)'),
    ...duel('request sign (µs)', sign, 'bare RSA sign (floor)'),
    ['  via WechatPayClient.sign() (µs)', fixed(sign.client_us, 2), '', '', '', ''],
    [
      'presign overhead, no RSA (µs)',
      fixed(r.presign.overhead_us, 1),
      '',
      '',
      '< 500',
      mark(r.presign.overhead_us < 500),
    ],
    [
      '  fresh processes: nothing loaded (µs)',
      fixed(r.presign.tracing_us.before_handler, 1),
      'tracing.ts, median of 3 processes each',
      '',
      '',
      '',
    ],
    [
      '  the handler loaded (µs)',
      fixed(r.presign.tracing_us.handler_loaded, 1),
      "Lambda's active tracing alone: nothing in-process",
      fixed(tracingTax(r), 3),
      `≤ ${TRACING_TAX_LIMIT}`,
      mark(tracingTax(r) <= TRACING_TAX_LIMIT),
    ],
    [
      '  with an OpenTelemetry span (µs)',
      fixed(r.presign.tracing_us.opentelemetry_span, 1),
      'sdk-trace-node registered (not chosen)',
      fixed(r.presign.tracing_us.opentelemetry_span / r.presign.tracing_us.before_handler, 3),
      '',
      '',
    ],
    [
      '  with the X-Ray SDK loaded (µs)',
      fixed(r.presign.tracing_us.xray_sdk_loaded, 1),
      'Powertools Tracer: async_hooks on every promise (not chosen)',
      fixed(r.presign.tracing_us.xray_sdk_loaded / r.presign.tracing_us.before_handler, 3),
      '',
      '',
    ],
    [
      '  through the middy handler (µs)',
      fixed(r.presign.handler_overhead_us, 1),
      `of which deps ${fixed(parts.deps_per_invocation, 1)}, log ${fixed(parts.log_line, 1)}, ` +
        `EMF ${fixed(parts.metrics_flush, 1)}`,
      '',
      '',
      '',
    ],
    [
      'presign with latencies (ms)',
      fixed(r.presign.overlap.measured_ms, 1),
      `${r.presign.overlap.ideal_ms} ideal (fastest ${fixed(r.presign.overlap.fastest_ms, 1)})`,
      fixed(r.presign.overlap.ratio, 3),
      '≤ 1.05',
      mark(r.presign.overlap.ratio <= 1.05),
    ],
    ['callback, instant stores (µs)', fixed(r.notify.use_case_us, 1), 'verify, decrypt, apply', '', '', ''],
    ['  through the middy handler (µs)', fixed(r.notify.handler_us, 1), '', '', '', ''],
    ...FUNCTIONS.flatMap((fn) => coldLoadRows(r.bundles, fn, mark)),
    ...r.first.by_node.map((n) => [
      `first presign after a cold load (ms, ${n.node})`,
      fixed(n.presign.total_ms, 1),
      `${fixed(n.reference.total_ms, 1)} SDK-only reference (load ${fixed(n.reference.load_ms, 1)} + request ${fixed(n.reference.first_request_ms, 1)})`,
      fixed(n.ratio, 2),
      '',
      `load ${fixed(n.presign.load_ms, 1)} + request ${fixed(n.presign.first_request_ms, 1)}`,
    ]),
    [
      'SSM / Secrets Manager client, X-Ray SDK in bundles',
      forbiddenSummary(r.bundles),
      '',
      '',
      'none',
      mark(FUNCTIONS.every((fn) => r.bundles.forbidden_in_bundle[fn].length === 0)),
    ],
    ...LAZY_CLIENTS.map((c) => [
      `${c.fn} cold start: ${c.client} client`,
      c.loaded(r.bundles) ? 'loaded' : 'not loaded',
      c.bundled(r.bundles) ? `bundled for ${c.usedFor}` : '',
      '',
      'none',
      mark(!c.loaded(r.bundles)),
    ]),
    ...(
      [
        ['WeChat Pay', r.keepalive.wechatpay],
        ['DynamoDB', r.keepalive.dynamodb],
        ['KMS', r.keepalive.kms],
      ] as const
    ).map(([name, x]) => [
      `keep-alive ${name} (connections)`,
      String(x.connections),
      `${x.calls} calls`,
      '',
      '1',
      mark(x.connections === 1),
    ]),
    [
      'local callbacks / s (16 in flight)',
      fixed(r.local.callbacks_per_s, 1),
      `${fixed(r.local.dynamodb_only_per_s, 1)} DynamoDB only`,
      fixed(r.local.callbacks_per_s / r.local.dynamodb_only_per_s, 3),
      '',
      '',
    ],
    ...repaymentDayRows(r.repaymentDay, mark),
  ];
  const met = goals(r).filter((g) => g.met).length;
  return [
    `${machine.cpu}, ${machine.cores} cores, ${machine.memory_gb} GB, Node ${machine.node}, ${machine.os}`,
    `${machine.date}, load average ${machine.loadavg_start} -> ${machine.loadavg_end}, ${machine.duration_s} s`,
    '',
    render(['', 'ours', 'peer / reference', 'ratio', 'goal', 'met'], rows),
    '',
    `goals met: ${met} of ${goals(r).length}`,
  ].join('\n');
}

function forbiddenSummary(b: BundlesResult): string {
  const found = FUNCTIONS.filter((fn) => b.forbidden_in_bundle[fn].length > 0).map(
    (fn) => `${fn}: ${b.forbidden_in_bundle[fn].join(', ')}`,
  );
  return found.length === 0 ? 'none' : found.join('; ');
}

function coldLoadRows(b: BundlesResult, fn: FunctionName, mark: (met: boolean) => string): string[][] {
  const reference = REFERENCE_OF[fn];
  const floor = SPEC_FLOOR_OF[fn];
  const on24 = b.node24;
  const node24Row = on24
    ? [
        [
          `  on Node ${on24.version.slice(1)}`,
          fixed(on24.cold_load_ms[fn] as number, 1),
          `${fixed(on24.cold_load_ms[reference] as number, 1)} ${reference}`,
          fixed(on24.cold_load_ratio[fn], 2),
          `≤ ${COLD_LOAD_LIMIT}`,
          mark(on24.cold_load_ratio[fn] <= COLD_LOAD_LIMIT),
        ],
      ]
    : [['  on Node 24', 'not measured', 'no Node 24 binary (bench/node24.ts)', '', '', '']];
  return [
    [
      `cold load ${fn} (ms, ${kb(b.bundle_bytes[fn] as number)})`,
      fixed(b.cold_load_ms[fn] as number, 1),
      `${fixed(b.cold_load_ms[reference] as number, 1)} ${reference} (${kb(b.bundle_bytes[reference] as number)})`,
      fixed(b.cold_load_ratio[fn], 2),
      `≤ ${COLD_LOAD_LIMIT}`,
      mark(b.cold_load_ratio[fn] <= COLD_LOAD_LIMIT),
    ],
    [
      '',
      '',
      `${fixed(b.cold_load_ms[floor] as number, 1)} ${floor} (${kb(b.bundle_bytes[floor] as number)})`,
      fixed(b.cold_load_spec_ratio[fn], 2),
      '',
      '',
    ],
    ...node24Row,
  ];
}

const fixed = (value: number, digits: number): string => value.toFixed(digits);
const kb = (bytes: number): string => `${Math.round(bytes / 1024)} KB`;

function render(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  // Numbers right-aligned, text left-aligned.
  const cell = (text: string, i: number) =>
    /^[\d.]+$/.test(text) ? text.padStart(widths[i] as number) : text.padEnd(widths[i] as number);
  const line = (row: string[]) => row.map(cell).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function repaymentDayRows(d: RepaymentDayResult, mark: (met: boolean) => string): string[][] {
  return [
    [
      `repayment day: Signs / s (${d.bookings} bookings)`,
      fixed(d.signs_per_s, 1),
      `${d.budget_rps} budget, KMS quota ${d.kms_quota_rps}, ${d.signs_throttled} throttled`,
      fixed(d.budget_used, 3),
      `≥ ${BUDGET_USED_GOAL}`,
      mark(d.budget_used >= BUDGET_USED_GOAL),
    ],
    [
      '  ordered exactly once / open',
      `${d.exactly_once} / ${d.open}`,
      `${d.seconds} s, ${d.workers} workers`,
      '',
      `${d.bookings} / 0`,
      mark(d.not_once === 0 && d.open === 0),
    ],
    [
      '  job CPU per booking (µs)',
      fixed(d.job_cpu_us_per_booking, 1),
      'page use case, no RSA or I/O',
      '',
      '',
      '',
    ],
    [
      '  whole process CPU per booking (ms)',
      fixed(d.process_cpu_ms_per_booking, 2),
      'job + simulator + KMS stand-in + callbacks',
      '',
      '',
      '',
    ],
  ];
}
