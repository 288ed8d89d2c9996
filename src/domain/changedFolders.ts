/**
 * Which mapped folders a batch of changes in a Dropbox account touches. A mapping lists only its
 * folder's direct children, so a change touches the folder it sits in; a change to the folder
 * itself or to a folder above it (renamed, moved, deleted) touches it too. Anything else, a file
 * in a subfolder included, leaves the mapping as it was.
 */
export function changedFolders(changedPathsLower: readonly string[]): (folderPathLower: string) => boolean {
  const changed = new Set<string>();
  const parents = new Set<string>();
  for (const path of changedPathsLower) {
    const key = comparable(path);
    changed.add(key);
    parents.add(parentOf(key));
  }
  return (folderPathLower) => {
    const folder = comparable(folderPathLower);
    if (parents.has(folder)) return true;
    for (let at = folder; at !== ''; at = parentOf(at)) if (changed.has(at)) return true;
    return false;
  };
}

/** Dropbox's `path_lower` and the product's own lower-casing may differ in Unicode normal form. */
function comparable(pathLower: string): string {
  return pathLower.normalize('NFC').toLowerCase();
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '' : path.slice(0, slash);
}
