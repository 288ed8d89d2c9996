import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SealedToken } from '../domain/types';

/** The token was sealed under another TOKEN_ENCRYPTION_KEY: nothing to do but restore it or re-enter. */
export class TokenKeyMismatchError extends Error {
  override name = 'TokenKeyMismatchError';
  constructor(readonly sealedKeyId: string) {
    super(
      `The token was encrypted with a different TOKEN_ENCRYPTION_KEY (key id ${sealedKeyId}); ` +
        'restore that key or ask the admin to enter the token again',
    );
  }
}

/** The sealed token was altered, truncated or bound to another connection. */
export class TokenDecryptionError extends Error {
  override name = 'TokenDecryptionError';
  constructor() {
    super(
      'The stored token could not be decrypted (it is damaged or altered); ask the admin to enter the token again',
    );
  }
}

/**
 * What a sealed token is bound to. Sealing with a connection id means only that connection's
 * record opens it, so a token copied into another connection's record is refused; a PKCE verifier
 * is bound to its OAuth round (the state's hash) the same way. Pass the same context to `open` as
 * to `seal`.
 */
export interface SealContext {
  connectionId?: string;
  oauthRound?: string;
}

export interface TokenCipher {
  /** First 16 hex digits of sha256(key): names the key without revealing it. */
  keyId: string;
  seal(token: string, context?: SealContext): SealedToken;
  open(sealed: SealedToken, context?: SealContext): string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function tokenKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** AES-256-GCM; the version, key id and context are authenticated with the ciphertext. */
export function createTokenCipher(key: Buffer): TokenCipher {
  if (key.length !== 32) throw new RangeError('TOKEN_ENCRYPTION_KEY must be 32 bytes');
  const secret = Buffer.from(key);
  const keyId = tokenKeyId(secret);
  const aad = (context: SealContext | undefined) =>
    Buffer.from(
      `dfs-token|v1|${keyId}|${context?.connectionId ?? ''}${context?.oauthRound === undefined ? '' : `|round:${context.oauthRound}`}`,
      'utf8',
    );

  return {
    keyId,
    seal(token, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', secret, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(context));
      const ciphertext = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      return {
        v: 1,
        keyId,
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        ciphertext: ciphertext.toString('base64'),
      };
    },
    open(sealed, context) {
      if (sealed.keyId !== keyId) throw new TokenKeyMismatchError(String(sealed.keyId));
      const iv = Buffer.from(String(sealed.iv), 'base64');
      const tag = Buffer.from(String(sealed.tag), 'base64');
      if (sealed.v !== 1 || iv.length !== IV_BYTES || tag.length !== TAG_BYTES)
        throw new TokenDecryptionError();
      try {
        const decipher = createDecipheriv('aes-256-gcm', secret, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad(context));
        decipher.setAuthTag(tag);
        const plain = Buffer.concat([
          decipher.update(Buffer.from(String(sealed.ciphertext), 'base64')),
          decipher.final(),
        ]);
        return plain.toString('utf8');
      } catch {
        // Node's own message ("Unsupported state or unable to authenticate data") says less than ours.
        throw new TokenDecryptionError();
      }
    },
  };
}
