/**
 * A workflow history as searchable text. Payloads are bytes (JSON inside), so a plain
 * JSON.stringify would show numbers and hide a token; every byte array is decoded instead.
 */
export function historyText(value: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown, depth: number) => {
    if (depth > 64 || v === null || v === undefined) return;
    if (typeof v === 'string') parts.push(v);
    else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') parts.push(String(v));
    else if (v instanceof Uint8Array) parts.push(Buffer.from(v).toString('utf8'));
    else if (Array.isArray(v)) v.forEach((x) => walk(x, depth + 1));
    else if (typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        parts.push(k);
        walk(x, depth + 1);
      }
    }
  };
  walk(value, 0);
  return parts.join('\n');
}
