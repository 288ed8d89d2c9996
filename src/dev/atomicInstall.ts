import { randomBytes } from 'node:crypto';
import { access, constants, rename, rm } from 'node:fs/promises';

/**
 * A private temporary name next to `finalPath`. Work happens there and is renamed into place,
 * so two installs running at once never see each other's half-written files, and a crash
 * leaves only a stray temp file, never a broken tool.
 */
export function tempPathFor(finalPath: string): string {
  return `${finalPath}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
}

export async function moveIntoPlace(tempPath: string, finalPath: string): Promise<void> {
  await rename(tempPath, finalPath);
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch(() => undefined);
}

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
