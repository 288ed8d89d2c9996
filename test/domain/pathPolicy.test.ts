import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPathPolicy, DEFAULT_SPECIAL_CHARACTERS, describeCharacters } from '../../src/domain/pathPolicy';

describe('special-character policy', () => {
  const policy = createPathPolicy();

  it('accepts "Kaivanto ä ö.dwg": letters of any script are not special', () => {
    assert.deepEqual(policy.offendingCharacters('Kaivanto ä ö.dwg'), []);
  });

  it('accepts everyday construction names with spaces, dashes, parentheses and dots', () => {
    for (const name of ['Foundation plan (rev 2).pdf', 'A-101_Site-Plan.dwg', 'Çelik köprü.ifc', '工程图纸.pdf', 'Budget, Q1.xlsx']) {
      assert.deepEqual(policy.offendingCharacters(name), [], name);
    }
  });

  it('rejects "plan#2?.pdf" and names "#" and "?" in order of appearance', () => {
    assert.deepEqual(policy.offendingCharacters('plan#2?.pdf'), ['#', '?']);
  });

  it('lists each offending character once', () => {
    assert.deepEqual(policy.offendingCharacters('a%%b%c&&.pdf'), ['%', '&']);
  });

  it('always rejects control characters, whatever the configured set', () => {
    const narrow = createPathPolicy('#');
    assert.deepEqual(narrow.offendingCharacters('bad\u0007name\ttab.pdf'), ['\u0007', '\t']);
    assert.equal(describeCharacters(['\u0007', '#']), 'U+0007, "#"');
  });

  it('uses the configured set instead of the default', () => {
    const narrow = createPathPolicy('#');
    assert.deepEqual(narrow.offendingCharacters('what?.pdf'), []);
    assert.deepEqual(narrow.offendingCharacters('no#1.pdf'), ['#']);
  });

  it('checks every segment of a folder path but not the separators', () => {
    assert.deepEqual(policy.offendingPathCharacters('/Projects/Site A/Photos'), []);
    assert.deepEqual(policy.offendingPathCharacters('/Projects/Site #4/Q&A'), ['#', '&']);
  });

  it('documents its default set, which never contains the path separator', () => {
    assert.ok(!DEFAULT_SPECIAL_CHARACTERS.includes('/'));
    assert.deepEqual(createPathPolicy('/#').offendingCharacters('a/b#'), ['#']);
  });
});
