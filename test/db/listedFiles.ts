import type { ListedFile } from '../../src/domain/types';

/** A listed file numbered `i`, with fields overridden as a test needs. */
export function listedFile(i: number, overrides: Partial<ListedFile> = {}): ListedFile {
  return {
    id: `id:${String(i).padStart(6, '0')}`,
    name: `plan-${i}.pdf`,
    pathDisplay: `/Plans/plan-${i}.pdf`,
    pathLower: `/plans/plan-${i}.pdf`,
    rev: `0150a${i.toString(16)}`,
    size: 1000 + i,
    contentHash: `hash-${i}`,
    serverModified: '2024-05-01T10:00:00Z',
    ...overrides,
  };
}

export function listedFiles(count: number, from = 0): ListedFile[] {
  return Array.from({ length: count }, (_, k) => listedFile(from + k));
}
