import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MISSING_SCOPE_MESSAGE, shownContent, shownContentCounts } from '../../src/domain/contentScope';

describe('shownContent', () => {
  const tooLarge = { reason: 'too_large', message: 'Larger than MAX_FILE_BYTES' } as const;

  it('shows a pending content (or a rev without a content record) as failed with missing_scope while the scope is missing', () => {
    const missing = {
      contentState: 'failed',
      contentError: { reason: 'missing_scope', message: MISSING_SCOPE_MESSAGE },
    };
    assert.deepEqual(shownContent({ state: 'pending', error: null }, true), missing);
    assert.deepEqual(shownContent(null, true), missing);
  });

  it('leaves stored and otherwise failed contents as they are, scope or not', () => {
    for (const scopeMissing of [true, false]) {
      assert.deepEqual(shownContent({ state: 'stored', error: null }, scopeMissing), {
        contentState: 'stored',
        contentError: null,
      });
      assert.deepEqual(shownContent({ state: 'failed', error: tooLarge }, scopeMissing), {
        contentState: 'failed',
        contentError: tooLarge,
      });
    }
  });

  it('shows pending as pending when the token may download', () => {
    assert.deepEqual(shownContent({ state: 'pending', error: null }, false), {
      contentState: 'pending',
      contentError: null,
    });
    assert.deepEqual(shownContent(null, false), { contentState: 'pending', contentError: null });
    // A rev the copy found superseded while the file's record caught up with it.
    assert.deepEqual(shownContent({ state: 'superseded', error: null }, false), {
      contentState: 'pending',
      contentError: null,
    });
  });

  it('counts what waits for the scope as failed while it is missing, and leaves counts alone otherwise', () => {
    const counts = { pending: 3, stored: 2, failed: 1 };
    assert.deepEqual(shownContentCounts(counts, true), { pending: 0, stored: 2, failed: 4 });
    assert.deepEqual(shownContentCounts(counts, false), counts);
  });
});
