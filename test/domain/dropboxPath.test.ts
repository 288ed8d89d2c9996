import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dropboxPathKey, dropboxPathProblem, normalizeDropboxPath } from '../../src/domain/dropboxPath';

describe('Dropbox paths', () => {
  it('treats "", "/" and "  /  " as the root, which Dropbox names ""', () => {
    assert.equal(normalizeDropboxPath(''), '');
    assert.equal(normalizeDropboxPath('/'), '');
    assert.equal(normalizeDropboxPath('  /  '), '');
  });

  it('adds the leading slash and drops trailing ones', () => {
    assert.equal(normalizeDropboxPath('Projects/Site A//'), '/Projects/Site A');
  });

  it('compares paths case-insensitively, as Dropbox does', () => {
    assert.equal(dropboxPathKey('/Projects/SITE A'), dropboxPathKey('/projects/site a/'));
  });

  it('refuses traversal segments and empty segments', () => {
    assert.match(dropboxPathProblem('/a/../b') ?? '', /"\.\."/u);
    assert.match(dropboxPathProblem('/a//b') ?? '', /empty segment/u);
    assert.equal(dropboxPathProblem('/Projects/Site A'), undefined);
  });
});
