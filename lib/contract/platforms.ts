/** Platform identity on the wire: ids and the account reference used across the API. */
import { z } from 'zod';

/** A platform id: lowercase letters, digits and dashes, 2-32 chars (e.g. `snapchat`, `pl-7`). */
export const platformIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,31}$/, { error: 'a platform id is 2-32 lowercase letters, digits or dashes' });

/** One account on one platform. */
export interface AccountRef {
  platform: string;
  account: string;
}

/** The compact key of an account, used inside detection and as a DynamoDB key part. */
export function accountKey(ref: AccountRef): string {
  return `${ref.platform}#${ref.account}`;
}

/** Inverse of {@link accountKey}: platform ids never contain `#`, so the first `#` splits. */
export function parseAccountKey(key: string): AccountRef {
  const cut = key.indexOf('#');
  return { platform: key.slice(0, cut), account: key.slice(cut + 1) };
}
