/** The fixture file server in a process of its own, so that its work is not counted as the client's. */
import { setMaxListeners } from 'node:events';
import { startFileServer } from '../tests/utils/file-server';

// Every throttled answer waits on the server's one stop signal: hundreds at once are expected here.
setMaxListeners(0);

const server = await startFileServer();
console.log(JSON.stringify({ url: server.url }));
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
