/** The fixture file server in a process of its own, so that its work is not counted as the client's. */
import { startFileServer } from '../tests/utils/file-server';

const server = await startFileServer();
console.log(JSON.stringify({ url: server.url }));
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
