import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * What a list_folder cursor carries. It is opaque to clients (base64url JSON behind an HMAC),
 * so a cursor cannot be forged or edited, and a stale one can be told apart from garbage.
 */
export interface CursorState {
  /** Account that listed. */
  a: string;
  /** Folder id ("" for the root) and path_lower at listing time. */
  f: string;
  p: string;
  /** recursive, include_deleted, include_non_downloadable_files, limit. */
  r: boolean;
  d: boolean;
  n: boolean;
  l: number;
  /** Position: every change with a sequence number up to here has been returned. */
  s: number;
  /** Sequence number when the listing started: tombstones from before it are not news. */
  t: number;
  /** The account's and the folder's reset generations when the listing started. */
  g: number;
  h: number;
}

const SIGNATURE_LENGTH = 22;

export class CursorCodec {
  constructor(private readonly key: Buffer = randomBytes(32)) {}

  encode(state: CursorState): string {
    const payload = Buffer.from(JSON.stringify(state)).toString('base64url');
    return `${this.sign(payload)}${payload}`;
  }

  /** The state, or undefined for anything this emulator did not issue. */
  decode(cursor: string): CursorState | undefined {
    const signature = cursor.slice(0, SIGNATURE_LENGTH);
    const payload = cursor.slice(SIGNATURE_LENGTH);
    const expected = this.sign(payload);
    if (
      signature.length !== SIGNATURE_LENGTH ||
      !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
    ) {
      return undefined;
    }
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as CursorState;
    } catch {
      return undefined;
    }
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url').slice(0, SIGNATURE_LENGTH);
  }
}
