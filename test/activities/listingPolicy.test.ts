import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listingPolicyOf } from '../../src/activities/listingPolicy';
import { DEFAULT_MAX_FILE_BYTES } from '../../src/domain/contentLimits';
import { createPathPolicy, DEFAULT_SPECIAL_CHARACTERS } from '../../src/domain/pathPolicy';

describe('listing policy', () => {
  it('is the same for the same characters and size limit, and differs when either changes', () => {
    const policy = (characters: string, maxFileBytes?: number) =>
      listingPolicyOf({ pathPolicy: createPathPolicy(characters), ...(maxFileBytes === undefined ? {} : { maxFileBytes }) });
    const base = policy(DEFAULT_SPECIAL_CHARACTERS);
    assert.equal(policy(DEFAULT_SPECIAL_CHARACTERS, DEFAULT_MAX_FILE_BYTES), base, 'the default limit spelled out');
    assert.notEqual(policy(DEFAULT_SPECIAL_CHARACTERS.replace('%', '')), base);
    assert.notEqual(policy(DEFAULT_SPECIAL_CHARACTERS, DEFAULT_MAX_FILE_BYTES + 1), base);
  });
});
