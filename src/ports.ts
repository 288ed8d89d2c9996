import { createServer } from 'node:net';

/**
 * Asks the kernel for a free loopback port. Another process could take it before the server
 * binds, but on a test machine that race is rare and the server's start-up error says so.
 */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a probe socket'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** `preferred` when nothing listens there (so addresses stay the same run to run), else a free one. */
export function preferredOrFreePort(preferred: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', () => findFreePort(host).then(resolve, reject));
    server.listen({ host, port: preferred, exclusive: true }, () => server.close(() => resolve(preferred)));
  });
}
