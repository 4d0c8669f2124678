/**
 * Which platform the client speaks for and with which secret: flags, environment variables, or
 * a credentials file such as the local stack's `.crosslink/credentials.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { platformIdSchema } from '../contract/platforms.js';
import { ClientConfigError } from './errors.js';

/** A platform identity able to sign requests. */
export interface PlatformCredentials {
  platform: string;
  secret: string;
}

// Only the part of the credentials document the client needs; the rest is the server's business.
const credentialsFileSchema = z.object({
  platforms: z.array(z.object({ id: platformIdSchema, secret: z.string().min(1) })),
});

const operatorFileSchema = z.object({ operatorToken: z.string().min(1) });

/** The local stack's credentials file, when there is one: `$CROSSLINK_HOME/credentials.json` (default `.crosslink/`). */
function localStackCredentialsPath(env: Record<string, string | undefined>): string | undefined {
  const path = join(env.CROSSLINK_HOME ?? '.crosslink', 'credentials.json');
  return existsSync(path) ? path : undefined;
}

function readCredentialsFile<T>(path: string, schema: z.ZodType<T>, what: string, expected: string): T {
  try {
    return schema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new ClientConfigError(`cannot read ${what} from ${path}: expected ${expected}`, { cause: error });
  }
}

/**
 * The operator's bearer token. Order: `--token`, then `CROSSLINK_OPERATOR_TOKEN`, then the
 * `operatorToken` of a credentials file (`--credentials`, or the local stack's own). On AWS the
 * token is a Cognito ID token of a user in the `operators` group.
 *
 * @throws ClientConfigError when no token can be found, naming the three ways to give one.
 * @example
 * resolveOperatorToken({ credentialsPath: '.crosslink/credentials.json' }, process.env) // -> '3f9c...'
 */
export function resolveOperatorToken(sources: { token?: string; credentialsPath?: string }, env: Record<string, string | undefined>): string {
  if (sources.token) return sources.token;
  if (env.CROSSLINK_OPERATOR_TOKEN && !sources.credentialsPath) return env.CROSSLINK_OPERATOR_TOKEN;
  const path = sources.credentialsPath ?? localStackCredentialsPath(env);
  if (!path) {
    throw new ClientConfigError('no operator token: pass --token, set CROSSLINK_OPERATOR_TOKEN, or pass --credentials <credentials.json> holding "operatorToken"');
  }
  return readCredentialsFile(path, operatorFileSchema, 'the operator token', '{"operatorToken": "..."} (the local stack writes one)').operatorToken;
}

/** What the caller gave; flags win over the environment. */
export interface CredentialSources {
  platform?: string;
  secret?: string;
  credentialsPath?: string;
}

/**
 * The platform and secret to sign with. Order: `--platform`/`--secret`, then
 * `CROSSLINK_PLATFORM`/`CROSSLINK_PLATFORM_SECRET`, then a credentials file (`--credentials`, or
 * the local stack's `$CROSSLINK_HOME/credentials.json`, default `.crosslink/`), choosing the
 * platform named, or the only one in the file.
 *
 * @throws ClientConfigError when no secret can be found, or the file names several platforms and none was chosen.
 * @example
 * resolvePlatformCredentials({ credentialsPath: '.crosslink/credentials.json', platform: 'snapchat' }, process.env)
 * // -> { platform: 'snapchat', secret: '...' }
 */
export function resolvePlatformCredentials(sources: CredentialSources, env: Record<string, string | undefined>): PlatformCredentials {
  const platform = sources.platform ?? env.CROSSLINK_PLATFORM;
  const secret = sources.secret ?? env.CROSSLINK_PLATFORM_SECRET;
  if (platform && secret && !sources.credentialsPath) return { platform, secret };

  const path = sources.credentialsPath ?? localStackCredentialsPath(env);
  if (!path) {
    throw new ClientConfigError(
      'no platform credentials: pass --platform and --secret, set CROSSLINK_PLATFORM and CROSSLINK_PLATFORM_SECRET, or pass --credentials <credentials.json>',
    );
  }
  const document = readCredentialsFile(path, credentialsFileSchema, 'platform credentials', '{"platforms":[{"id","secret"}]}');
  const ids = document.platforms.map((entry) => entry.id);
  if (!platform && document.platforms.length !== 1) {
    throw new ClientConfigError(`${path} holds ${ids.length} platforms (${ids.join(', ')}): choose one with --platform or CROSSLINK_PLATFORM`);
  }
  const chosen = platform ? document.platforms.find((entry) => entry.id === platform) : document.platforms[0];
  if (!chosen) throw new ClientConfigError(`${path} has no platform "${platform}": it holds ${ids.join(', ') || 'none'}`);
  return { platform: chosen.id, secret: chosen.secret };
}
