import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

const BLOCK_SIZE = 4 * 1024 * 1024;

/**
 * Passes bytes through while computing Dropbox's content hash (SHA-256 of each 4 MiB block,
 * SHA-256 of the concatenated block digests, hex) and counting them: the copy verifies a file
 * on its way into GridFS, without a second read.
 */
export class ContentHasher extends Transform {
  private readonly outer = createHash('sha256');
  private block: Hash = createHash('sha256');
  private inBlock = 0;
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    let rest = chunk;
    while (rest.length > 0) {
      const take = Math.min(rest.length, BLOCK_SIZE - this.inBlock);
      this.block.update(rest.subarray(0, take));
      this.inBlock += take;
      rest = rest.subarray(take);
      if (this.inBlock === BLOCK_SIZE) {
        this.outer.update(this.block.digest());
        this.block = createHash('sha256');
        this.inBlock = 0;
      }
    }
    callback(null, chunk);
  }

  /** The hash of everything that passed; call once, after the stream ended. */
  digest(): string {
    if (this.inBlock > 0) this.outer.update(this.block.digest());
    return this.outer.digest('hex');
  }
}
