/**
 * The commands other AWS workflows send by queue or by rule (README "Commands by queue"): which function owns
 * each, which natural keys name what it acts on, and which refusals a later delivery may turn into a success.
 */

/** The functions of serverless.yml that take commands, by their key there. */
export type CommandFunction = 'presign' | 'contracts' | 'repayments';

/** The natural keys an outcome event carries, so that a consumer finds the contract or booking it is about. */
export type NaturalKey = 'out_contract_code' | 'out_record_id';

interface CommandRoute {
  function: CommandFunction;
  keys: readonly NaturalKey[];
  /**
   * Error names (PascalCase) after which the identical command may still succeed: the queue delivers it again
   * until its last receive. Any other refusal is final at once, since its repetition is either refused the same
   * way or, worse, answered differently (a booking WeChat Pay refused is `RepaymentIdUsed` when sent again, a
   * refused deduct order replays as the booking's view), and the outcome must name the first answer.
   */
  retryable: readonly string[];
}

/**
 * Our own dependencies failing (DynamoDB, KMS, EventBridge, or the owning function not answering) is worth a retry
 * for every command: nothing was sent to WeChat Pay, or the identical request resumes what was.
 */
const DEPENDENCY = 'DependencyUnavailable';

/**
 * WeChat Pay not answering is worth a retry only where repeating the request is harmless: a query, and a
 * termination, which WeChat Pay does once. A presign, booking or deduct order whose answer was lost may have
 * landed, so its retry would only meet the code or id it already used; reconcile settles those.
 */
const WECHATPAY = 'WechatPayUnavailable';

export const COMMANDS = {
  PresignRequested: {
    function: 'presign',
    keys: ['out_contract_code'],
    retryable: [DEPENDENCY, 'PresignInProgress'],
  },
  AppPresignRequested: {
    function: 'presign',
    keys: ['out_contract_code'],
    retryable: [DEPENDENCY, 'PresignInProgress'],
  },
  TerminateRequested: {
    function: 'contracts',
    keys: ['out_contract_code'],
    retryable: [DEPENDENCY, WECHATPAY],
  },
  SyncRequested: { function: 'contracts', keys: ['out_contract_code'], retryable: [DEPENDENCY, WECHATPAY] },
  // The identical booking while the first is still running, as PresignInProgress is for a presign.
  RepaymentBookingRequested: {
    function: 'repayments',
    keys: ['out_contract_code', 'out_record_id'],
    retryable: [DEPENDENCY, 'BookingInProgress'],
  },
  DeductRequested: { function: 'repayments', keys: ['out_record_id'], retryable: [DEPENDENCY] },
} as const satisfies Record<string, CommandRoute>;

export type CommandName = keyof typeof COMMANDS;

export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

export const isCommandName = (name: unknown): name is CommandName =>
  typeof name === 'string' && Object.hasOwn(COMMANDS, name);
