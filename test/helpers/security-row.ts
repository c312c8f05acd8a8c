/**
 * One row of the security part of docs/RELIABILITY.md (scripts/reliability.ts runs the security
 * tests beside test/reliability): nothing is mirrored there, so files lost/duplicated/corrupt
 * are 0 by construction and the row says what was probed and what came back.
 */
import { recordRow } from '../reliability/helpers.js';

export function recordSecurityRow(row: {
  id: string;
  scenario: string;
  injected: string;
  cases: number;
  /** Longest single wait seen (a response, a socket close), ms. */
  longestHangMs: number;
  observed: string;
}): void {
  recordRow({
    ...row,
    id: `security-${row.id}`,
    scenario: `security: ${row.scenario}`,
    lost: 0,
    duplicated: 0,
    corrupt: 0,
    maxRssMb: Math.round((process.memoryUsage().rss / 1048576) * 10) / 10,
    longestHangMs: Math.round(row.longestHangMs),
  });
}
