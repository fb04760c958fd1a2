/**
 * V8 flags the server runs with. `npm start` passes them (package.json), so does the `readnext`
 * command's shebang (bin/readnext.mjs), and the benchmarks start the server with them
 * (bench/lib.ts); test/main/node-flags.test.ts checks that all three agree.
 *
 * --max-semi-space-size=64 (MiB; Node 20 sizes it from the heap limit, 16 MiB here): every request
 * allocates Fastify's request and reply, the slate, and a serve record that waits up to 10 ms for
 * its batched write, and each young-generation collection copies what is still alive. Measured on
 * a busy server (`--trace-gc`, 15 s of wrk -c50, the bench's database, 2026-12-05, AMD EPYC VM):
 * 443-453 scavenges of 1.1 ms median (3.3% of the time) with the default, 134 of 1.5 ms (1.3%)
 * with 64 MiB; throughput 20,541, 19,991 and 21,997 req/s against 19,296, 19,256 and 20,171 in
 * alternating runs. The cost is memory: up to 3 x 64 MiB of young generation.
 *
 * --heap-growing-percent=50: after each full collection V8 lets the old generation grow to
 * factor x what survived (plus the young generation's capacity) before the next one; the factor
 * comes from how fast it collects against how fast the program allocates, up to 4 when the heap
 * limit is large (4 GiB here; V8's heap-controller.cc, MaxGrowingFactor and DynamicGrowingFactor).
 * A busy server allocates fast, so V8 picks a high factor, and the garbage of the bounded
 * per-reader state (the exposure memory drops half its entries at once: RecentMap) then piles up
 * as resident memory before a collection, more of it the longer the server runs: with 1,000,000
 * readers remembered (READNEXT_READER_MEMORY_MAX) the server's RSS rose 574, 621, 735, 769 MB at
 * 1.3M, 2.5M, 3.8M and 5M distinct readers while the heap in use stayed at 270-350 MB
 * (bench:readers, quiet VM, 2026-12-05). The flag fixes the factor at 1.5, so what is resident
 * follows what is live: RSS 465, 386, 456, 474 MB at the same points, its peak 482 MB, the peaks
 * of the last third no higher than the earlier ones (bench:readers, 2026-12-06, load 1.5-3.5).
 * A model of the exposure memory alone (10M readers through 1M entries, with request-like garbage)
 * peaked at 711-756 MB of RSS without the flag and 457 MB with it. The cost: full collections
 * come more often. 2M readers each way on the same day (load 0.1-1.9): without the flag RSS
 * 411, 464, 509, 507 MB per quarter (peak 602, verdict growing), 111 us of server CPU a request,
 * 8,381 req/s; with it 363, 444, 453, 465 MB (peak 466, flat), 134 us, 6,766 req/s. The GC pauses
 * a request were the same (2.3 us minor, 0.1 major); the extra CPU, if not noise (one run each,
 * not alternated), is concurrent marking: to confirm with alternated bench:serve runs. Not a hard cap (--max-old-space-size): a server configured to
 * hold more (READNEXT_READER_MEMORY_MAX, READNEXT_MAX_READERS) would crash at the cap instead of
 * growing; with this flag its memory grows with what it is told to keep, and no further.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64', '--heap-growing-percent=50'];
