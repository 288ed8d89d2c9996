import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHeldPages } from '../../src/activities/heldPages';
import type { ListedFile } from '../../src/domain/types';

const file = (i: number): ListedFile => ({
  id: `id:${i}`,
  name: `f${i}.pdf`,
  pathDisplay: `/F/f${i}.pdf`,
  pathLower: `/f/f${i}.pdf`,
  rev: 'r1',
  size: 1,
  serverModified: '2026-01-01T00:00:00Z',
});

const page = (n: number) => ({
  files: Array.from({ length: n }, (_, i) => file(i)),
  folders: [],
  deletedPaths: [],
});

describe('pages held on a worker', () => {
  it('holds pages up to the budget of entries and refuses the one that would pass it', () => {
    const held = createHeldPages({ maxEntries: 5 });
    const a = held.hold('m1', 0, page(3), new Date());
    assert.ok(a?.onWorker);
    assert.equal(held.hold('m2', 0, page(3), new Date()), undefined);
    assert.ok(held.hold('m2', 0, page(2), new Date()));
    assert.equal(held.entries(), 5);
    assert.equal(held.get('m1', a)?.files.length, 3);
  });

  it('a page in a slot replaces the one before it; a stale reference finds nothing', () => {
    const held = createHeldPages({ maxEntries: 10 });
    const first = held.hold('m1', 2, page(4), new Date())!;
    const second = held.hold('m1', 2, page(4), new Date())!;
    assert.equal(held.get('m1', first), undefined);
    assert.equal(held.get('m1', second)?.pageId, second.pageId);
    assert.equal(held.entries(), 4, 'the replaced page no longer counts');
    assert.equal(held.get('m2', second), undefined, 'another mapping, another slot');
  });

  it('releases every slot of a mapping at once, leaving the others', () => {
    const held = createHeldPages({ maxEntries: 100 });
    for (const slot of [0, 1, 2, 3] as const) held.hold('m1', slot, page(1), new Date());
    const other = held.hold('m2', 0, page(1), new Date())!;
    held.releaseAll('m1');
    assert.equal(held.entries(), 1);
    assert.ok(held.get('m2', other));
  });

  it('lets go of pages nobody recorded for half an hour, when another is held', () => {
    let now = 0;
    const held = createHeldPages({ maxEntries: 4, now: () => now });
    const abandoned = held.hold('m1', 0, page(4), new Date())!;
    now += 29 * 60_000;
    assert.equal(held.hold('m2', 0, page(1), new Date()), undefined, 'still held at 29 minutes');
    now += 2 * 60_000;
    assert.ok(held.hold('m2', 0, page(1), new Date()));
    assert.equal(held.get('m1', abandoned), undefined);
  });

  it('holds nothing with a budget of 0', () => {
    assert.equal(createHeldPages({ maxEntries: 0 }).hold('m1', 0, page(1), new Date()), undefined);
  });
});
