/**
 * Readers soak: one `readnext serve` with a running experiment answers recommendation requests for
 * N distinct readers (default 5,000,000), to show that its memory per reader is bounded (issue 22,
 * part 5): the exposure memory holds READNEXT_READER_MEMORY_MAX (experiment, reader) pairs at most,
 * evicts the least recently used, and reads an evicted reader's arm back from the database
 * (app/exposure-lookup.ts), so memory stops growing once it is full and arms stay sticky.
 *
 *   npm run bench:readers [-- [--readers N] [--revisit SHARE] [--reader-memory N] [--connections C]
 *                            [--phase 1|2] [--pg URL] [--threshold MB_PER_MILLION]
 *                            [--node-flag FLAG]... [--env NAME=VALUE]...]
 *
 * 1. Setup: the 60 sample articles; a three-arm experiment on read-next (startThreeArmExperiment),
 *    by default moved to phase 2 by a weights change without re-randomising, the worst case: every
 *    reader the memory does not hold costs a database lookup before serving (in phase 1 none does).
 * 2. Load, from this process (C concurrent keep-alive connections): reader `rs-<i>` for i = 0..N-1
 *    in order, each request with probability `--revisit` (default 0.1, a seeded generator) going
 *    instead to a reader served before, chosen uniformly: a returning reader, most often evicted
 *    by then, whose arm must come back from the database. The client checks every answer: the arm
 *    of a returning reader must be the one they got first ("arm changed" counts the others), and
 *    a reader served outside the experiment is counted ("unassigned": a lookup that missed its
 *    bounded wait, or a shed one).
 * 3. Every SAMPLE_MS the server's memory is sampled with the number of distinct readers served so
 *    far: RSS from /proc/PID/status (VmRSS, and its anonymous part RssAnon), the resident brk heap
 *    from /proc/PID/smaps (glibc's main malloc arena: SQLite's page cache, at most 64 MB,
 *    adapters/storage/sqlite.ts, and the other native allocations of the main thread), and from
 *    GET /metrics (prom-client's default gauges) V8's heap used, its heap committed (heapTotal,
 *    with the young generation: 2 x 64 MB, main/node-flags.ts) and its external memory (Buffers,
 *    ArrayBuffers). Reported at each quarter of the readers, with the least-squares slope of each in
 *    MB per million distinct readers over the second half of the run (the first fills the memory up
 *    to its capacity), and the server's CPU time and GC pauses per request (a cost that holds better
 *    than req/s on a machine shared with other work).
 *    Verdict "flat" when either
 *      - the second-half slopes of RSS and heap used are both below --threshold (default 30 MB per
 *        million readers, 30 bytes a reader: a leaked Map entry with its key is ~100), or
 *      - a plateau: the highest RSS and the highest heap used over the last third of the readers
 *        exceed the highest before it by at most threshold x N/3 (50 MB with the defaults: the rise
 *        the threshold allows over that third).
 *    Not a slope of 0: a full memory is a sawtooth (its two generations drop half the entries at
 *    once, RecentMap, and V8 collects them later), and a line fitted over a few teeth leans either
 *    way; a sawtooth whose peaks stop rising is bounded even when the line leans up. With N below
 *    twice the capacity the memory is still filling in the second half: give --reader-memory N/4 or
 *    less. What the memory can hold at most: the exposure memory READNEXT_READER_MEMORY_MAX entries
 *    (141 bytes an entry with these ids, measured after a full GC: 135 MB for 1M; about 300 with
 *    30-character ids, app/serving.ts), and up to half of them more as garbage after a generation is
 *    dropped; SQLite's page cache 64 MB; V8 lets its old generation reach 2 x what survived the
 *    last full collection before the next one (--heap-growing-percent=100, main/node-flags.ts, which
 *    says why), plus the young generation.
 *    --node-flag FLAG and --env NAME=VALUE start the server with more node flags or environment (an
 *    experiment: e.g. --node-flag --max-old-space-size=512, --env MALLOC_ARENA_MAX=2).
 * The server runs on core 0 and this process on core 1 (taskset) on machines with 2 or more cores.
 * --pg URL: an admin URL; the scratch database readnext_bench_readers is dropped and recreated.
 * Exit status: 0 when no request failed, no arm changed and memory was flat; 1 otherwise.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { openServices } from '../src/main/services.js';
import {
  commandExists,
  emitResult,
  fixed,
  formatTable,
  freePort,
  importSampleArticles,
  int,
  leastSquaresSlope,
  loadAverage,
  machineInfo,
  makeTempDir,
  gcSeconds,
  metricsText,
  metricValue,
  processCpuSeconds,
  progressLogger,
  runBench,
  runCommand,
  scratchDatabase,
  startServer,
  startThreeArmExperiment,
} from './lib.js';

const EXPERIMENT = 'readers-soak';
const ARMS = ['control', 'co-read', 'popular'];
const K = 5;
const SAMPLE_MS = 2000;
const PG_DB = 'readnext_bench_readers';
const METRICS_TOKEN = 'bench-readers-metrics-token-0123456789';
const ADMIN_KEY = 'bench-readers-admin-key-0123456789abcdef';
const SERVER_CPU = '0';
const CLIENT_CPU = '1';
/** Latency histogram: 0.1 ms buckets up to 2 s, then one overflow bucket. */
const BUCKET_MS = 0.1;
const BUCKETS = 20_000;

interface Args {
  readers: number;
  revisit: number;
  readerMemory?: number;
  connections: number;
  phase: 1 | 2;
  pg?: string;
  threshold: number;
  /** Extra node flags for the server (--node-flag, repeatable), after SERVER_NODE_FLAGS. */
  nodeFlags: string[];
  /** Extra environment for the server (--env NAME=VALUE, repeatable), e.g. MALLOC_ARENA_MAX=2. */
  env: Record<string, string>;
}

function parseArgs(argv: string[]): Args {
  const usage =
    'usage: npm run bench:readers [-- [--readers N] [--revisit SHARE] [--reader-memory N] [--connections C] [--phase 1|2] [--pg URL] [--threshold MB_PER_MILLION] [--node-flag FLAG]... [--env NAME=VALUE]...]';
  const a: Args = { readers: 5_000_000, revisit: 0.1, connections: 32, phase: 2, threshold: 30, nodeFlags: [], env: {} };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const num = (min: number, max = Number.MAX_SAFE_INTEGER) => {
      const n = Number(value);
      if (value === undefined || value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
        throw new Error(`${flag} takes a number in [${min}, ${max}]; ${usage}`);
      i++;
      return n;
    };
    if (flag === '--readers') a.readers = Math.round(num(1000, 100_000_000));
    else if (flag === '--revisit') a.revisit = num(0, 0.9);
    else if (flag === '--reader-memory') a.readerMemory = Math.round(num(2, 100_000_000));
    else if (flag === '--connections') a.connections = Math.round(num(1, 1024));
    else if (flag === '--phase') a.phase = num(1, 2) === 1 ? 1 : 2;
    else if (flag === '--threshold') a.threshold = num(0);
    else if (flag === '--node-flag') {
      if (value === undefined || !value.startsWith('--')) throw new Error(`--node-flag takes a node flag (--name[=value]); ${usage}`);
      a.nodeFlags.push(value);
      i++;
    } else if (flag === '--env') {
      const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(value ?? '');
      if (!m) throw new Error(`--env takes NAME=VALUE; ${usage}`);
      a.env[m[1]!] = m[2]!;
      i++;
    } else if (flag === '--pg') {
      if (value === undefined || !/^postgres(ql)?:\/\//.test(value)) throw new Error(`--pg takes a postgres:// URL; ${usage}`);
      a.pg = value;
      i++;
    } else throw new Error(`unknown argument ${flag}; ${usage}`);
  }
  return a;
}

/** mulberry32: a small seeded generator, so two runs send the same sequence of readers. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One GET on a keep-alive agent: the status and the body. */
function get(agent: Agent, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function percentileOf(hist: Uint32Array, total: number, p: number): number {
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= p * total) return (i + 1) * BUCKET_MS;
  }
  return NaN;
}

/** What one memory sample reads, in MB (NaN when a source did not answer). */
interface Memory {
  /** /proc/PID/status VmRSS, and its anonymous (RssAnon) and file-backed (RssFile) parts. */
  rssMb: number;
  rssAnonMb: number;
  rssFileMb: number;
  /** The resident part of the brk heap ("[heap]" in /proc/PID/smaps): glibc's main malloc arena. */
  brkMb: number;
  /** V8 heap used and committed (heapTotal), and external memory (ArrayBuffers, Buffers, native objects V8 is told of), from GET /metrics. */
  heapMb: number;
  heapTotalMb: number;
  externalMb: number;
}

interface Sample extends Memory {
  t: number;
  readers: number;
  requests: number;
}

const MB = 2 ** 20;

/** The resident sizes of the server process from /proc (Linux); NaN for what is missing. */
function procMemory(pid: number): Pick<Memory, 'rssMb' | 'rssAnonMb' | 'rssFileMb' | 'brkMb'> {
  const kb = (text: string, re: RegExp) => {
    const m = re.exec(text);
    return m?.[1] === undefined ? NaN : Number(m[1]) / 1024;
  };
  let status = '';
  let smaps = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
    smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    // the process is gone: NaN
  }
  return {
    rssMb: kb(status, /^VmRSS:\s+(\d+) kB$/m),
    rssAnonMb: kb(status, /^RssAnon:\s+(\d+) kB$/m),
    rssFileMb: kb(status, /^RssFile:\s+(\d+) kB$/m),
    brkMb: kb(smaps, /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/),
  };
}

/** V8's heap used and total and its external memory, from prom-client's default gauges; NaN when missing. */
function v8Memory(text: string): Pick<Memory, 'heapMb' | 'heapTotalMb' | 'externalMb'> {
  return {
    heapMb: metricValue(text, 'nodejs_heap_size_used_bytes') / MB,
    heapTotalMb: metricValue(text, 'nodejs_heap_size_total_bytes') / MB,
    externalMb: metricValue(text, 'nodejs_external_memory_bytes') / MB,
  };
}

/**
 * Whether memory has stopped rising: over the samples of the last third of the readers, how far
 * the highest RSS (and heap used) goes above the highest of all samples before it, in MB (0 or less:
 * no new peak). A sawtooth that repeats has new peaks no higher than its old ones; memory that
 * keeps growing sets a new peak about (slope x N/3) higher. NaN without samples on both sides.
 */
function plateauOf(
  samples: readonly Sample[],
  readers: number,
): { rssRiseMb: number; heapRiseMb: number; rssMinMb: number; rssMaxMb: number } {
  const cut = (2 / 3) * readers;
  const before = samples.filter((s) => s.readers < cut);
  const last = samples.filter((s) => s.readers >= cut);
  const max = (xs: readonly Sample[], k: 'rssMb' | 'heapMb') => Math.max(...xs.map((s) => s[k]).filter(Number.isFinite));
  const min = (xs: readonly Sample[], k: 'rssMb') => Math.min(...xs.map((s) => s[k]).filter(Number.isFinite));
  if (before.length < 3 || last.length < 3) return { rssRiseMb: NaN, heapRiseMb: NaN, rssMinMb: NaN, rssMaxMb: NaN };
  return {
    rssRiseMb: max(last, 'rssMb') - max(before, 'rssMb'),
    heapRiseMb: max(last, 'heapMb') - max(before, 'heapMb'),
    rssMinMb: min(last, 'rssMb'),
    rssMaxMb: max(last, 'rssMb'),
  };
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const log = progressLogger();
  const machine = machineInfo();
  const pin = machine.nproc >= 2 && commandExists('taskset');
  const dir = makeTempDir('readnext-bench-readers-');
  const db = await scratchDatabase({ sqliteFile: join(dir, 'readers.db'), ...(args.pg ? { pg: args.pg } : {}), pgDb: PG_DB });

  // 1. Setup: articles, the experiment (phase 2 by default), then the server.
  const articles = await importSampleArticles(db);
  const setup = await openServices(loadConfig({ db, adminKey: ADMIN_KEY, logLevel: 'silent' }, {}));
  try {
    await startThreeArmExperiment(setup.deployments, EXPERIMENT, 'readers soak');
    if (args.phase === 2)
      await setup.deployments.changeExperiment(EXPERIMENT, { weights: [0.2, 0.4, 0.4] }, { actor: 'bench', reason: 'phase 2' });
  } finally {
    await setup.close();
  }

  const port = await freePort();
  const env: Record<string, string> = {
    ...args.env,
    READNEXT_LOG_LEVEL: 'warn',
    READNEXT_METRICS_TOKEN: METRICS_TOKEN,
    READNEXT_ADMIN_KEY: ADMIN_KEY,
  };
  if (args.readerMemory !== undefined) env.READNEXT_READER_MEMORY_MAX = String(args.readerMemory);
  const server = await startServer({ db, port, ...(pin ? { cpu: SERVER_CPU } : {}), env, nodeArgs: args.nodeFlags });
  if (pin) await runCommand(['taskset', '-pc', CLIENT_CPU, String(process.pid)]);

  console.log('readnext readers soak');
  console.log(
    `machine   ${machine.nproc} CPUs (${machine.cpuModel}), ${fixed(machine.memGiB)} GiB RAM, node ${machine.node}; load average before: ${fixed(loadAverage() ?? NaN, 2)}`,
  );
  console.log(
    `workload  GET /v1/recommendations (k ${K}) for ${int(args.readers)} distinct readers, ${fixed(args.revisit * 100, 0)}% of requests to a returning reader; ` +
      `experiment in phase ${args.phase}; reader memory ${args.readerMemory === undefined ? 'the default' : int(args.readerMemory)}; ` +
      `${args.pg ? 'PostgreSQL' : 'SQLite'}; ${args.connections} connections; ${pin ? `server on core ${SERVER_CPU}, client on core ${CLIENT_CPU}` : 'not pinned'}` +
      `${args.nodeFlags.length ? `; server node flags ${args.nodeFlags.join(' ')}` : ''}${
        Object.keys(args.env).length
          ? `; server env ${Object.entries(args.env)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')}`
          : ''
      }`,
  );

  // 2. The load, with the client's checks.
  const arms = new Uint8Array(args.readers); // 0 not served yet, 1 + arm index, 255 served outside the experiment
  const rand = seeded(22);
  const hist = new Uint32Array(BUCKETS + 1);
  const c = { requests: 0, revisits: 0, errors: 0, armChanged: 0, unassigned: 0, unassignedRevisits: 0 };
  let next = 0;
  let firstError: string | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: args.connections });
  const worker = async () => {
    for (;;) {
      let i: number;
      const revisit = next > 0 && rand() < args.revisit;
      if (revisit) i = Math.floor(rand() * next);
      else if (next < args.readers) i = next++;
      else return;
      const article = articles[(i * 7919) % articles.length]!;
      const t0 = performance.now();
      let res: { status: number; body: string };
      try {
        res = await get(
          agent,
          port,
          `/v1/recommendations?placement=read-next&article=${encodeURIComponent(article)}&reader=rs-${i}&k=${K}`,
        );
      } catch (e) {
        c.errors++;
        firstError ??= (e as Error).message;
        continue;
      }
      hist[Math.min(BUCKETS, Math.floor((performance.now() - t0) / BUCKET_MS))]!++;
      c.requests++;
      if (revisit) c.revisits++;
      if (res.status !== 200) {
        c.errors++;
        firstError ??= `${res.status}: ${res.body.slice(0, 200)}`;
        continue;
      }
      const body = JSON.parse(res.body) as { experiment: string | null; arm: string | null };
      const got = body.experiment === EXPERIMENT ? 1 + ARMS.indexOf(body.arm!) : 255;
      if (got === 255) {
        c.unassigned++;
        if (revisit) c.unassignedRevisits++;
      }
      const had = arms[i]!;
      if (had === 0 || had === 255) arms[i] = got;
      else if (got !== 255 && got !== had) c.armChanged++;
    }
  };
  const samples: Sample[] = [];
  const t0 = performance.now();
  let lastGc: Record<string, number> = {};
  const sample = async () => {
    const at = { t: (performance.now() - t0) / 1000, readers: next, requests: c.requests };
    const text = await metricsText(server.url, METRICS_TOKEN, true);
    lastGc = gcSeconds(text);
    samples.push({ ...at, ...procMemory(server.pid), ...v8Memory(text) });
  };
  await sample();
  const cpu0 = processCpuSeconds(server.pid);
  const gc0 = lastGc;
  let sampling = true;
  const sampler = (async () => {
    let lastLog = 0;
    while (sampling) {
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
      if (!sampling) break;
      await sample();
      const s = samples[samples.length - 1]!;
      if (s.t - lastLog >= 30) {
        lastLog = s.t;
        log(
          `${int(s.readers)} readers, ${int(s.requests)} requests: RSS ${fixed(s.rssMb, 0)} MB (anon ${fixed(s.rssAnonMb, 0)}, brk heap ${fixed(s.brkMb, 0)}), ` +
            `heap ${fixed(s.heapMb, 0)} of ${fixed(s.heapTotalMb, 0)} MB, external ${fixed(s.externalMb, 0)} MB`,
        );
      }
    }
  })();
  try {
    await Promise.all(Array.from({ length: args.connections }, worker));
  } finally {
    sampling = false;
    await sampler;
    agent.destroy();
  }
  await sample();
  const seconds = (performance.now() - t0) / 1000;
  // CPU the server spent per request: a cost that holds better than req/s on a machine shared with other work.
  const serverCpuUsPerRequest = ((processCpuSeconds(server.pid) - cpu0) / c.requests) * 1e6;
  // And of that, the main thread's garbage collection pauses, by kind (us a request).
  const gcUsPerRequest = Object.fromEntries(Object.entries(lastGc).map(([k, v]) => [k, ((v - (gc0[k] ?? 0)) / c.requests) * 1e6]));
  // The server's own count of readers it served outside the experiment for want of their arm.
  let armsUnresolved = NaN;
  try {
    const res = await fetch(`${server.url}/v1/admin/serving/stats`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    armsUnresolved = ((await res.json()) as { armsUnresolved?: number }).armsUnresolved ?? NaN;
  } catch {
    // reported as n/a
  }
  await server.stop();

  // 3. The report.
  type Series = 'rssMb' | 'heapMb' | 'heapTotalMb' | 'externalMb' | 'brkMb';
  const perMillion = (k: Series, from: number) =>
    leastSquaresSlope(samples.filter((s) => s.readers >= from).map((s) => ({ x: s.readers / 1e6, y: s[k] })));
  const half = args.readers / 2;
  const slopes = {
    rssSecondHalf: perMillion('rssMb', half),
    heapSecondHalf: perMillion('heapMb', half),
    heapTotalSecondHalf: perMillion('heapTotalMb', half),
    externalSecondHalf: perMillion('externalMb', half),
    brkSecondHalf: perMillion('brkMb', half),
    heapAll: perMillion('heapMb', 0),
  };
  const plateau = plateauOf(samples, args.readers);
  const slopesFlat =
    Number.isFinite(slopes.rssSecondHalf) &&
    Number.isFinite(slopes.heapSecondHalf) &&
    slopes.rssSecondHalf < args.threshold &&
    slopes.heapSecondHalf < args.threshold;
  // The peaks may rise over the last third by what the threshold allows for its readers, no more.
  const plateauMb = (args.threshold * args.readers) / 3 / 1e6;
  const plateaued =
    Number.isFinite(plateau.rssRiseMb) &&
    Number.isFinite(plateau.heapRiseMb) &&
    plateau.rssRiseMb <= plateauMb &&
    plateau.heapRiseMb <= plateauMb;
  const flat = slopesFlat || plateaued;
  const at = (share: number) => samples.find((s) => s.readers >= share * args.readers) ?? samples[samples.length - 1]!;
  const p50 = percentileOf(hist, c.requests, 0.5);
  const p99 = percentileOf(hist, c.requests, 0.99);
  const ok = c.errors === 0 && c.armChanged === 0 && flat;
  const quarters = (k: keyof Memory) => [0, 0.25, 0.5, 0.75, 1].map((q) => (q === 0 ? samples[0]! : at(q))[k]);
  console.log(
    `requests  ${int(c.requests)} in ${fixed(seconds, 0)} s (${int(c.requests / seconds)} req/s), ${int(c.revisits)} to returning readers; p50 ${fixed(p50, 1)} ms, p99 ${fixed(p99, 1)} ms (client side); server CPU ${fixed(serverCpuUsPerRequest, 0)} us a request, ` +
      `of which GC ${Object.entries(gcUsPerRequest)
        .map(([k, v]) => `${k} ${fixed(v, 1)}`)
        .join(', ')}; load average after: ${fixed(loadAverage() ?? NaN, 2)}`,
  );
  console.log(
    `checks    ${int(c.errors)} errors${firstError ? ` (first: ${firstError})` : ''}; ${int(c.armChanged)} returning readers with another arm; ` +
      `${int(c.unassigned)} answers outside the experiment (${int(c.unassignedRevisits)} of them to returning readers; the server counts ${int(armsUnresolved)} arms not read back in time)`,
  );
  console.log(
    formatTable(
      ['readers served', 'at s', 'RSS MB', 'anon', 'brk heap', 'V8 heap used', 'heapTotal', 'external'],
      [0, 0.25, 0.5, 0.75, 1].map((q) => {
        const s = q === 0 ? samples[0]! : at(q);
        return [
          int(s.readers),
          fixed(s.t, 0),
          fixed(s.rssMb, 1),
          fixed(s.rssAnonMb, 1),
          fixed(s.brkMb, 1),
          fixed(s.heapMb, 1),
          fixed(s.heapTotalMb, 1),
          fixed(s.externalMb, 1),
        ];
      }),
    ),
  );
  console.log(
    `slope     MB per million readers, second half: RSS ${fixed(slopes.rssSecondHalf, 2)}, heap used ${fixed(slopes.heapSecondHalf, 2)}, ` +
      `heapTotal ${fixed(slopes.heapTotalSecondHalf, 2)}, external ${fixed(slopes.externalSecondHalf, 2)}, brk heap ${fixed(slopes.brkSecondHalf, 2)}; whole run: heap used ${fixed(slopes.heapAll, 2)}`,
  );
  console.log(
    `plateau   last third's peak over the peak before it: RSS ${fixed(plateau.rssRiseMb, 1)} MB, heap used ${fixed(plateau.heapRiseMb, 1)} MB ` +
      `(last third's RSS range ${fixed(plateau.rssMinMb, 0)}-${fixed(plateau.rssMaxMb, 0)} MB)`,
  );
  console.log(
    `verdict   ${flat ? 'flat' : 'GROWING'} (${slopesFlat ? 'second-half slopes below' : 'second-half slopes not below'} ${args.threshold} MB per million readers; ` +
      `${plateaued ? 'a plateau:' : 'no plateau:'} peaks of the last third ${plateaued ? 'within' : 'more than'} ${fixed(plateauMb, 0)} MB over the earlier ones)${ok ? '' : '; FAILED'}`,
  );
  emitResult({
    readers: args.readers,
    requests: c.requests,
    seconds,
    reqPerS: c.requests / seconds,
    p50Ms: p50,
    p99Ms: p99,
    serverCpuUsPerRequest,
    gcUsPerRequest,
    errors: c.errors,
    armChanged: c.armChanged,
    unassigned: c.unassigned,
    armsUnresolved,
    rssMb: quarters('rssMb'),
    rssAnonMb: quarters('rssAnonMb'),
    brkHeapMb: quarters('brkMb'),
    heapMb: quarters('heapMb'),
    heapTotalMb: quarters('heapTotalMb'),
    externalMb: quarters('externalMb'),
    slopeMbPerMillionReaders: slopes,
    plateau: { ...plateau, boundMb: plateauMb },
    flat,
    slopesFlat,
    plateaued,
    nodeFlags: args.nodeFlags,
    env: args.env,
    database: args.pg ? 'postgres' : 'sqlite',
  });
  return ok ? 0 : 1;
}

await runBench(main);
