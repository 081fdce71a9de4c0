/** Ingest milestones at which a collection's report is recomputed: 5k items, then every doubling. */
export const FIRST_MILESTONE = 5000;

/** The milestone a collection of `count` items has reached (0 below the first). */
export function milestoneOf(count: number): number {
  if (count < FIRST_MILESTONE) return 0;
  let m = FIRST_MILESTONE;
  while (m * 2 <= count) m *= 2;
  return m;
}

/** True when `count` items reach a milestone beyond the one the stored report was made at. */
export function dueForReport(count: number, reportItems: number | null): boolean {
  const m = milestoneOf(count);
  return m > 0 && (reportItems === null || milestoneOf(reportItems) < m);
}
