import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atFirstRev, listedAhead } from '../../src/domain/contentRevs';

describe('listedAhead', () => {
  const at = (iso: string) => new Date(iso);
  const file = { serverModified: at('2026-12-01T10:00:00Z'), updatedAt: at('2026-12-05T08:00:00Z') };

  it("holds a rev later than the file record's for the listing that is writing it", () => {
    assert.equal(
      listedAhead(file, { serverModified: at('2026-12-01T10:00:01Z'), listedAt: at('2026-12-05T07:00:00Z') }),
      true,
    );
  });

  it("supersedes a rev earlier than the file record's, whenever it was listed (a late retry)", () => {
    assert.equal(
      listedAhead(file, { serverModified: at('2026-12-01T09:59:59Z'), listedAt: at('2026-12-05T09:00:00Z') }),
      false,
    );
  });

  it('breaks a tie of Dropbox times by which was written last', () => {
    const sameSecond = at('2026-12-01T10:00:00Z');
    assert.equal(
      listedAhead(file, { serverModified: sameSecond, listedAt: at('2026-12-05T08:00:01Z') }),
      true,
    );
    assert.equal(
      listedAhead(file, { serverModified: sameSecond, listedAt: at('2026-12-05T08:00:00Z') }),
      false,
    );
    assert.equal(
      listedAhead(file, { serverModified: sameSecond, listedAt: at('2026-12-05T07:59:59Z') }),
      false,
    );
  });
});

describe('atFirstRev', () => {
  it('holds for a file still at the rev it was first recorded with', () => {
    assert.equal(atFirstRev({ rev: 'a1', firstRev: 'a1' }), true);
  });

  it('fails for a file recorded again with a later rev', () => {
    assert.equal(atFirstRev({ rev: 'b2', firstRev: 'a1' }), false);
  });
});
