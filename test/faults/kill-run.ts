/**
 * npm run fault:kill -- [--cycles N] [--db sqlite|postgres|URL] [--seed S] [--clients C]
 *
 * The kill-cycles fault (kill-cycles.ts) by hand: SIGKILL `readnext serve` N times during ingestion
 * on one database, then check that no acknowledged event was lost or stored twice. `postgres`
 * creates a database of its own under READNEXT_TEST_PG (and drops it); a URL is used as is (kept).
 * Exit code 0 when the check passes, 1 when it finds a lost, duplicated or unknown event.
 */
import { parseArgs } from 'node:util';
import { ensureBuilt } from '../../scripts/build.mjs';
import { freshPostgresUrl, tempDir } from '../helpers/databases.js';
import { formatReport, killServers, runKillCycles } from './kill-cycles.js';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '20' },
    db: { type: 'string', default: 'sqlite' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    clients: { type: 'string', default: '4' },
  },
});

async function database(kind: string): Promise<{ url: string; cleanup(): Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = tempDir('readnext-fault-');
    return { url: `sqlite:${dir.path}/fault.db`, cleanup: async () => dir.remove() };
  }
  if (kind === 'postgres') {
    const db = await freshPostgresUrl();
    return { url: db.url, cleanup: () => db.drop() };
  }
  return { url: kind, cleanup: async () => undefined };
}

process.on('exit', killServers);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    killServers();
    process.exit(130);
  });

await ensureBuilt();
const { url, cleanup } = await database(values.db);
let failed = true;
try {
  const report = await runKillCycles({
    db: url,
    cycles: Number(values.cycles),
    seed: Number(values.seed),
    clients: Number(values.clients),
    log: (line) => console.error(line),
  });
  console.log(formatReport(report));
  for (const [what, ids] of [
    ['lost', report.lost],
    ['duplicated', report.duplicated],
    ['unknown', report.unknown],
    ['wrong answers', report.wrongAnswers],
  ] as const)
    if (ids.length > 0) console.log(`${what}: ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', ...' : ''}`);
  failed = report.lost.length + report.duplicated.length + report.unknown.length + report.wrongAnswers.length > 0;
} finally {
  killServers();
  await cleanup();
}
process.exitCode = failed ? 1 : 0;
