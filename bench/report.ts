/** Percentiles, number formatting and the results table the bench prints at the end. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const seconds = (ms: number, digits = 1) => `${fmt(ms / 1000, digits)} s`;
export const kib = (bytes: number, digits = 1) => `${fmt(bytes / 1024, digits)} KiB`;

export interface ResultRow {
  figure: string;
  measured: string;
  reference: string;
  goal: string;
  /** true met, false missed, undefined: no goal. */
  met?: boolean;
}

const rows: ResultRow[] = [];

export function addRow(row: ResultRow): void {
  rows.push(row);
  const verdict = row.met === undefined ? '' : row.met ? ' [goal met]' : ' [goal MISSED]';
  say(
    `  ${row.figure}: ${row.measured}${row.reference ? ` | reference: ${row.reference}` : ''}${row.goal ? ` | goal ${row.goal}` : ''}${verdict}`,
  );
}

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The table of every figure, as Markdown, for BENCHMARKS.md. */
export function resultsTable(): string {
  const lines = [
    '| figure | measured | reference (same run) | goal | met |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.figure} | ${r.measured} | ${r.reference || '–'} | ${r.goal || '–'} | ${r.met === undefined ? '–' : r.met ? 'yes' : '**no**'} |`,
    ),
  ];
  return lines.join('\n');
}
