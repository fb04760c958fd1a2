import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

/**
 * Where the SDK comes from. Run from source (tests, tsx), the entry sits next to this file and is
 * bundled in memory; run compiled (bin/readnext.mjs runs dist/main/cli.mjs), scripts/build.mjs has
 * already bundled it to dist/sdk.js beside the CLI bundle, built from the same sources in the same
 * run, and the server only reads it (no esbuild at start).
 */
const ENTRY = fileURLToPath(new URL('./sdk/readnext.ts', import.meta.url));
const PREBUILT = fileURLToPath(new URL('../sdk.js', import.meta.url));

let cached: Promise<string> | undefined;

/**
 * Bundles the browser SDK (`sdk/readnext.ts`) to a minified IIFE that sets `window.readnext`.
 * Built in memory once per process; a failed build is not cached, so the next call retries.
 *
 * @example
 * const js = await buildSdk(); // "(()=>{...})();"
 */
export function buildSdk(): Promise<string> {
  if (!existsSync(ENTRY)) {
    cached ??= Promise.resolve().then(() => readFileSync(PREBUILT, 'utf8'));
  }
  cached ??= import('esbuild').then(({ build }) => build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2019',
    platform: 'browser',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  })).then((r) => {
    const out = r.outputFiles[0];
    if (!out) throw new Error('esbuild produced no output for the readnext SDK');
    return out.text;
  });
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

/**
 * Serves the SDK at `GET /sdk.js`. It is built while the plugin registers, i.e. at server start,
 * so a broken SDK fails the start instead of the first reader. `demoSite()` registers this
 * plugin itself; register it alone to serve the SDK to a newsroom's own site without the demo.
 */
export const sdkRoute = (): FastifyPluginAsync => async (app) => {
  const code = await buildSdk();
  const etag = `"${createHash('sha256').update(code).digest('base64url').slice(0, 22)}"`;
  app.get('/sdk.js', { schema: { hide: true } }, async (req, reply) => {
    // Not versioned in its URL: a short max-age, then a cheap revalidation by ETag.
    void reply
      .header('cache-control', 'public, max-age=300') // 5 minutes
      .header('etag', etag)
      .header('x-content-type-options', 'nosniff')
      .type('application/javascript; charset=utf-8');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return code;
  });
};
