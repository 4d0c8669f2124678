import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlatformAdmin } from '../../../lib/auth/platform-admin.js';
import { CredentialsFile } from '../../../lib/runtime/local/credentials-file.js';

describe('PlatformAdmin over the local credentials file, two operator calls at once', () => {
  it('keeps both changes (no read-modify-write loses one)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crosslink-creds-')), 'credentials.json');
    const admin = new PlatformAdmin(new CredentialsFile(path));
    await Promise.all([admin.add('newapp-a'), admin.add('newapp-b')]);
    const ids = JSON.parse(readFileSync(path, 'utf8')).platforms.map((p: { id: string }) => p.id);
    expect(ids).toEqual(expect.arrayContaining(['newapp-a', 'newapp-b']));
  });

  it('a rotation and a removal at once both land', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'crosslink-creds-')), 'credentials.json');
    const file = new CredentialsFile(path);
    const admin = new PlatformAdmin(file);
    const [rotated] = await Promise.all([admin.rotate('chatapp'), admin.remove('gamehub')]);
    const doc = JSON.parse(readFileSync(path, 'utf8'));
    expect(doc.platforms.map((p: { id: string }) => p.id)).not.toContain('gamehub');
    expect(doc.platforms.find((p: { id: string }) => p.id === 'chatapp').secret).toBe(rotated.secret);
  });
});
