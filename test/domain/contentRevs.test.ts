import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atFirstRev } from '../../src/domain/contentRevs';

describe('atFirstRev', () => {
  it('holds for a file still at the rev it was first recorded with', () => {
    assert.equal(atFirstRev({ rev: 'a1', firstRev: 'a1' }), true);
  });

  it('fails for a file recorded again with a later rev', () => {
    assert.equal(atFirstRev({ rev: 'b2', firstRev: 'a1' }), false);
  });
});
