/**
 * The local stack's DynamoDB API server (dynalite over LevelDB) on a thread of its own, as a remote
 * service runs beside its clients: its work no longer queues on the handlers' event loop. Plain
 * JavaScript, so that the thread loads it without a TypeScript loader (under vitest, tsx or node).
 *
 * Commands from lib/runtime/local/local-servers.ts, each answered with `{ id, port }` or `{ id, error }`:
 * `listen` (on the port it had, or a free one the first time), `stop` (refuse connections and cut open
 * ones, LevelDB kept open: an outage as clients see it), `close` (listener and LevelDB).
 */
import { Server as HttpServer } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';
import { mendLevel } from './level-fixes.mjs';

mendLevel();

const server = dynalite(workerData.options);
let port = 0;
let listening = false;

function listen() {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      port = server.address().port;
      listening = true;
      resolve();
    });
  });
}

async function stop() {
  if (!listening) return;
  listening = false;
  server.closeAllConnections();
  // The plain HTTP close: dynalite's own would close LevelDB under requests still inside.
  await new Promise((resolve) => HttpServer.prototype.close.call(server, () => resolve()));
}

async function close() {
  // dynalite's close stops the listener and then closes LevelDB, so it needs a listener to stop.
  if (!listening) await listen();
  listening = false;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(() => resolve()));
}

const commands = { listen: () => (listening ? undefined : listen()), stop, close };

parentPort.on('message', async ({ id, command }) => {
  try {
    await commands[command]();
    parentPort.postMessage({ id, port });
    if (command === 'close') parentPort.close();
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
