import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** Long enough to start a download, short enough that a copied link is soon useless. */
export const CONTENT_LINK_TTL_MS = 5 * 60_000;

export interface ContentLinkTarget {
  projectId: string;
  mappingId: string;
  fileId: string;
}

export type ContentLinkCheck =
  | { ok: true; target: ContentLinkTarget }
  | { ok: false; problem: 'invalid' | 'expired' };

export interface ContentLinks {
  create(target: ContentLinkTarget, now?: Date): { token: string; expiresAt: Date };
  check(token: string, now?: Date): ContentLinkCheck;
}

/**
 * Signed, expiring download links: the browser fetches a file's content by plain navigation (and
 * streams it to disk) without the API key, which it cannot put in a header there. Stateless, so any
 * API process answers a link another one made; the key is derived from TOKEN_ENCRYPTION_KEY and
 * used for nothing else.
 */
export function createContentLinks(encryptionKey: Buffer, ttlMs = CONTENT_LINK_TTL_MS): ContentLinks {
  const key = Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'dfs-content-link|v1', 32));
  const sign = (payload: string) => createHmac('sha256', key).update(payload).digest();

  return {
    create(target, now = new Date()) {
      const expiresAt = new Date(now.getTime() + ttlMs);
      const claim = [target.projectId, target.mappingId, target.fileId, Math.ceil(expiresAt.getTime() / 1000)];
      const payload = Buffer.from(JSON.stringify(claim)).toString('base64url');
      return { token: `${payload}.${sign(payload).toString('base64url')}`, expiresAt };
    },
    check(token, now = new Date()) {
      const [payload, signature, ...rest] = token.split('.');
      if (!payload || !signature || rest.length > 0) return { ok: false, problem: 'invalid' };
      const given = Buffer.from(signature, 'base64url');
      const expected = sign(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, problem: 'invalid' };
      const claim = parseClaim(Buffer.from(payload, 'base64url').toString('utf8'));
      if (!claim) return { ok: false, problem: 'invalid' };
      if (claim.expiresAtSeconds * 1000 <= now.getTime()) return { ok: false, problem: 'expired' };
      return { ok: true, target: claim.target };
    },
  };
}

const claimSchema = z.tuple([z.string(), z.string(), z.string(), z.number().int()]);

function parseClaim(json: string): { target: ContentLinkTarget; expiresAtSeconds: number } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  const parsed = claimSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const [projectId, mappingId, fileId, expiresAtSeconds] = parsed.data;
  return { target: { projectId, mappingId, fileId }, expiresAtSeconds };
}
