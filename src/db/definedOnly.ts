/** Drops keys whose value is undefined, so optional fields are absent rather than stored as null. */
export function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
