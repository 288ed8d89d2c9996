import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changedFolders } from '../../src/domain/changedFolders';

describe('changedFolders', () => {
  const touched = (changes: string[], folders: string[]) => {
    const isChanged = changedFolders(changes);
    return folders.filter(isChanged);
  };
  const mapped = ['', '/projects', '/projects/site a', '/projects/site b', '/archive/2024'];

  it('touches the folder a changed entry sits in, and no other', () => {
    assert.deepEqual(touched(['/projects/site a/plan.pdf'], mapped), ['/projects/site a']);
    assert.deepEqual(touched(['/readme.txt'], mapped), ['']);
  });

  it('leaves a mapping alone when only its subfolders changed', () => {
    assert.deepEqual(touched(['/projects/site a/drawings/plan.pdf'], mapped), []);
  });

  it('touches a folder that was itself added, renamed or deleted, and the folder it sits in', () => {
    assert.deepEqual(touched(['/projects/site b'], mapped), ['/projects', '/projects/site b']);
  });

  it('touches every mapping below a folder that moved or was deleted', () => {
    assert.deepEqual(touched(['/projects'], mapped), [
      '',
      '/projects',
      '/projects/site a',
      '/projects/site b',
    ]);
    assert.deepEqual(touched(['/archive'], ['/archive/2024', '/archived']), ['/archive/2024']);
  });

  it('compares paths in one Unicode form, whatever form either side was lower-cased in', () => {
    const nfd = '/kaivanto \u0061\u0308'; // "ä" as a plus a combining diaeresis
    const nfc = '/kaivanto \u00e4';
    assert.deepEqual(touched([`${nfd}/plan.dwg`], [nfc]), [nfc]);
    assert.deepEqual(touched([`${nfc}/plan.dwg`], [nfd]), [nfd]);
  });

  it('touches nothing for no changes', () => {
    assert.deepEqual(touched([], mapped), []);
  });
});
