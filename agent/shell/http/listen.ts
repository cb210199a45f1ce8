/**
 * Listening with a clear, coded message when a port is taken or privileged.
 */
import type { Server } from 'node:net';
import { HotdeskError } from '../../core/errors.js';

/** `server.listen` as a promise; EADDRINUSE/EACCES become `port-in-use` with advice. */
export function listenOrExplain(server: Server, port: number, host: string, what: string, flag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (e.code === 'EADDRINUSE') {
        reject(
          new HotdeskError('port-in-use', `${what} port ${port} on ${host} is already in use: stop the other service or choose another port with ${flag}`),
        );
      } else if (e.code === 'EACCES') {
        reject(
          new HotdeskError(
            'port-in-use',
            `${what} port ${port} needs privileges: see docs/deployment.md (setcap or a port redirect), or choose another port with ${flag}`,
          ),
        );
      } else {
        reject(e);
      }
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
