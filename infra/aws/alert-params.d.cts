// Types of alert-params.cjs for the TypeScript that tests it (osls itself loads the .cjs).
type Resolver = (context: { resolveVariable: (name: string) => Promise<unknown> }) => Promise<unknown>;
declare const alertParams: {
  subscriptions: Resolver;
  renewalReminder: Resolver;
  parse: {
    subscriptions(list: unknown): { Protocol: string; Endpoint: string }[];
    renewalReminder(notAfter: unknown, now?: number): string;
    RENEWAL_LEAD_DAYS: number;
  };
};
export = alertParams;
