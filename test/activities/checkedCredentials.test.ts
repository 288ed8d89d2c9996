import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCheckedCredentials } from '../../src/activities/checkedCredentials';
import type { MappingCredentials } from '../../src/activities/mappingCredentials';

function loaded(token: string): MappingCredentials {
  return { credentials: { token } } as MappingCredentials;
}

describe('credentials handed from the token check to the listing', () => {
  it('hands each check to one listing only', () => {
    const checked = createCheckedCredentials(() => 0);
    checked.keep('m1', loaded('a'));
    assert.equal(checked.take('m1')?.credentials.token, 'a');
    assert.equal(checked.take('m1'), undefined);
    assert.equal(checked.take('m2'), undefined);
  });

  it('hands over the latest check, and none older than 30 s', () => {
    let now = 0;
    const checked = createCheckedCredentials(() => now);
    checked.keep('m1', loaded('old'));
    checked.keep('m1', loaded('new'));
    now = 29_999;
    assert.equal(checked.take('m1')?.credentials.token, 'new');

    checked.keep('m1', loaded('late'));
    now += 30_000;
    assert.equal(checked.take('m1'), undefined);
  });

  it('forgets checks no listing took once they are stale', () => {
    let now = 0;
    const checked = createCheckedCredentials(() => now);
    checked.keep('m1', loaded('a'));
    now = 31_000;
    checked.keep('m2', loaded('b'));
    now = 0; // back at m1's check time: only a dropped entry reads as absent now
    assert.equal(checked.take('m1'), undefined);
    assert.equal(checked.take('m2')?.credentials.token, 'b');
  });
});
