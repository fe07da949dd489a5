/**
 * Captures everything this process writes to stdout and stderr, where Powertools Logger prints (its Console
 * looks up `write` on the stream at each call). The handlers run in this process (the local gateway and the
 * stream poller call them directly), so every log line they write passes through here. JSON log lines are kept
 * and swallowed, to spare the test report a DEBUG flood; anything else is passed on.
 */
export interface CapturedOutput {
  /** Every chunk written, log lines included. */
  text(): string;
  /** The JSON log lines, parsed. */
  logs(): Record<string, unknown>[];
  stop(): void;
}

export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const restore: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      chunks.push(text);
      const parsed = logLine(text);
      if (parsed) {
        logs.push(parsed);
        const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        done?.();
        return true;
      }
      return original.call(stream, chunk as string, ...(rest as []));
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = original;
    });
  }
  return {
    text: () => chunks.join(''),
    logs: () => [...logs],
    stop: () => {
      for (const r of restore) r();
    },
  };
}

function logLine(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{"level"')) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
