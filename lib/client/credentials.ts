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

  const localStackFile = join(env.CROSSLINK_HOME ?? '.crosslink', 'credentials.json');
  const path = sources.credentialsPath ?? (existsSync(localStackFile) ? localStackFile : undefined);
  if (!path) {
    throw new ClientConfigError(
      'no platform credentials: pass --platform and --secret, set CROSSLINK_PLATFORM and CROSSLINK_PLATFORM_SECRET, or pass --credentials <credentials.json>',
    );
  }
  let document: z.infer<typeof credentialsFileSchema>;
  try {
    document = credentialsFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new ClientConfigError(`cannot read platform credentials from ${path}: expected {"platforms":[{"id","secret"}]}`, { cause: error });
  }
  const ids = document.platforms.map((entry) => entry.id);
  if (!platform && document.platforms.length !== 1) {
    throw new ClientConfigError(`${path} holds ${ids.length} platforms (${ids.join(', ')}): choose one with --platform or CROSSLINK_PLATFORM`);
  }
  const chosen = platform ? document.platforms.find((entry) => entry.id === platform) : document.platforms[0];
  if (!chosen) throw new ClientConfigError(`${path} has no platform "${platform}": it holds ${ids.join(', ') || 'none'}`);
  return { platform: chosen.id, secret: chosen.secret };
}
