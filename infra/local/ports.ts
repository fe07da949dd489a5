import { createServer } from 'node:net';

function listenOnce(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolve(bound));
    });
  });
}

/** A port the OS considers free right now; another process may still take it before the caller binds it. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return listenOnce(0, host);
}

/**
 * Fails fast with a message that names the environment variable that moves the port, instead of letting a
 * child process die later with its own bind error (or, worse, letting a client talk to whatever holds it).
 */
export async function assertPortFree(port: number, host: string, variableName: string): Promise<void> {
  try {
    await listenOnce(port, host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      const why = code === 'EACCES' ? 'needs privileges' : 'is busy';
      throw new Error(`port ${port} ${why}; set ${variableName} to move it`, { cause: error });
    }
    throw error;
  }
}
