import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of DynamoDB Local that can be cut and restored: DynamoDB unreachable for a while,
 * with its data intact. (Stopping DynamoDB Local itself also loses its in-memory data, which real DynamoDB
 * never does, so outages that must not lose data are modelled here.)
 */
export interface TcpProxy {
  endpoint: string;
  port: number;
  /** Refuse new connections and reset every open one, as a network partition would. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server: Server = createServer((client) => {
    track(client);
    const upstream = createConnection({ host, port: targetPort });
    track(upstream);
    // Whichever side fails, the other is reset: the client sees what a dead peer looks like.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  return {
    endpoint: `http://${host}:${port}`,
    port,
    cut: stop,
    restore: () => (server.listening ? Promise.resolve() : listen(port)),
    close: stop,
  };
}
