import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { AWS_CLIENT_CONFIG } from './client-config';
import { timed } from './latency';

// One client per container: it keeps its connections alive across invocations.
let eventBridge: EventBridgeClient | undefined;

/** The timed EventBridge client. */
export function eventBridgeClient(): EventBridgeClient {
  eventBridge ??= timed(new EventBridgeClient(AWS_CLIENT_CONFIG), 'EventBridgeLatency');
  return eventBridge;
}
