import { ifSet, Reader } from './reader';

/**
 * The commands router's configuration (README "Configuration"), read by settings.ts's Reader: where the
 * functions that own the commands are, how often the queue delivers a message, and the bus the outcomes go to.
 */
export interface CommandSettings {
  /**
   * COMMAND_FUNCTION_PREFIX: what precedes a function's key in its deployed name (`<service>-<stage>-`), so that
   * `presign`, `contracts` and `repayments` are invoked by `<prefix><key>`.
   */
  functionPrefix: string;
  /** COMMAND_MAX_RECEIVE_COUNT: the queue's redrive maxReceiveCount; on that receive every refusal is final. */
  maxReceiveCount: number;
  /** EVENT_BUS_NAME; unset: outcome events are logged, not published. */
  eventBusName?: string;
}

export const DEFAULT_MAX_RECEIVE_COUNT = 5;

export function readCommandSettings(env: NodeJS.ProcessEnv): CommandSettings {
  const r = new Reader(env);
  const settings: CommandSettings = {
    functionPrefix: r.required('COMMAND_FUNCTION_PREFIX'),
    maxReceiveCount: r.positive('COMMAND_MAX_RECEIVE_COUNT', DEFAULT_MAX_RECEIVE_COUNT),
    ...ifSet('eventBusName', r.optional('EVENT_BUS_NAME')),
  };
  r.checkMissing();
  // SQS's own bounds for a redrive policy's maxReceiveCount.
  if (settings.maxReceiveCount > 1000) {
    r.invalid(`COMMAND_MAX_RECEIVE_COUNT=${settings.maxReceiveCount} is above SQS's 1000`);
  }
  r.checkInvalid();
  return settings;
}
