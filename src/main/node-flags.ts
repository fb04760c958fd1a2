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
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
