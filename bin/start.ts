/**
 * `npm start`: brings the whole of Crosslink up on this machine (see README, "Run it locally").
 * State lives in CROSSLINK_HOME (default ./.crosslink); the port is PORT (default 8787); detection
 * settings over the defaults come from DETECTION_OPTIONS (JSON).
 */
import { resolve } from 'node:path';
import { ConfigError, detectionOptionsFrom } from '../lib/runtime/config.js';
import { startLocalStack } from '../lib/runtime/local/local-stack.js';

const home = resolve(process.env.CROSSLINK_HOME ?? '.crosslink');
const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(2);
}

let detectionOptions;
try {
  detectionOptions = detectionOptionsFrom(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const stack = await startLocalStack({
  home,
  port,
  detectionOptions,
  quietDetectMs: Number(process.env.CROSSLINK_QUIET_DETECT_MS ?? 3000),
  logLevel: (process.env.CROSSLINK_LOG_LEVEL as 'INFO' | undefined) ?? 'WARN',
});
console.log(`Crosslink is running at ${stack.baseUrl}`);
console.log(`  console:      ${stack.baseUrl}/`);
console.log(`  credentials:  ${stack.credentialsPath} (platform secrets and the investigator token)`);
console.log(`  state:        ${home}`);
console.log(`  DynamoDB API: ${stack.servers.dynamodbEndpoint}   SQS API: ${stack.servers.sqsEndpoint}`);
console.log('Try `npm run demo` in another terminal. Ctrl-C stops (after the queue drains).');

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log('stopping: draining the signal queue first...');
  try {
    await stack.waitForDrain(30_000);
  } catch (error) {
    console.error(`${(error as Error).message}: messages still queued are lost with the in-memory SQS server`);
  }
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
