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
 * --heap-growing-percent=100: after each full collection V8 lets the old generation grow to
 * factor x what survived (plus the young generation's capacity) before the next one; the factor
 * comes from how fast it collects against how fast the program allocates, up to 4 when the heap
 * limit is large (4 GiB here; V8's heap-controller.cc, MaxGrowingFactor and DynamicGrowingFactor).
 * A busy server allocates fast, so V8 picks a high factor, and the garbage of the bounded
 * per-reader state (the exposure memory drops half its entries at once: RecentMap) then piles up
 * as resident memory before a collection, more of it the longer the server runs: with 1,000,000
 * readers remembered (READNEXT_READER_MEMORY_MAX) the server's RSS rose 574, 621, 735, 769 MB at
 * 1.3M, 2.5M, 3.8M and 5M distinct readers while the heap in use stayed at 270-350 MB
 * (bench:readers, quiet VM, 2026-12-05). The flag fixes the factor at 2, so what is resident
 * follows what is live. 2M readers (bench:readers --readers 2000000, 2026-12-06): without a flag
 * RSS 411, 464, 509, 507 MB per quarter (peak 602, still rising); with 100 367, 454, 515, 506 (the
 * last third's peak 523 MB, 12 MB under the one before it: a plateau), 105 us of server CPU a
 * request; with 50 363, 444, 453, 465 (peak 466).
 *
 * Why 2 and not 1.5: a lower factor means more full collections, and their concurrent marking
 * takes CPU from the main thread (the benches pin the server to one core, where the marker threads
 * share it; the GC pauses themselves stayed at 1-1.5% of wall time). bench:serve (co-read, 1M
 * events, 50 connections; AMD EPYC VM, 2026-12-06, alternated 20 s runs): with 50, 0.32x and 0.40x
 * the bare route, p99 30.4 and 32.0 ms, major collections during every measured run; with V8's
 * default 0.53x and 0.66x, p99 9.9 and 12.3 ms; with 100 0.75x, p99 9.6 ms, no major collection
 * during the measured run. Not a hard cap (--max-old-space-size): a server configured to hold more
 * (READNEXT_READER_MEMORY_MAX, READNEXT_MAX_READERS) would crash at the cap instead of growing;
 * with this flag its memory grows with what it is told to keep, and no further.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64', '--heap-growing-percent=100'];
