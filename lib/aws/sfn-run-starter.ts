import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { DayRunInput, DayRunStarter } from '../repayments/day-start';
import { AWS_CLIENT_CONFIG } from './client-config';
import { dependencyUnavailable } from './dependency';

let client: SFNClient | undefined;

/**
 * Starts the repayment-day state machine (infra/aws/repayment-day.asl.json). A STANDARD execution: its history
 * holds only the input's date, shard numbers, out_record_id cursors and counts, never personal data.
 */
export class SfnRunStarter implements DayRunStarter {
  constructor(private readonly stateMachineArn: string) {}

  async start(name: string, input: DayRunInput): Promise<string> {
    client ??= new SFNClient(AWS_CLIENT_CONFIG);
    try {
      const { executionArn } = await client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      if (!executionArn) throw new Error('StartExecution returned no executionArn');
      return executionArn;
    } catch (error) {
      throw dependencyUnavailable('Step Functions', `StartExecution ${name}`, error);
    }
  }
}
