import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { FastifyPluginAsync } from 'fastify';

/** The SDK entry, next to this file; the readnext command runs from source (tsx), so the .ts is always there. */
const ENTRY = fileURLToPath(new URL('./sdk/readnext.ts', import.meta.url));

let cached: Promise<string> | undefined;

/**
 * Bundles the browser SDK (`sdk/readnext.ts`) to a minified IIFE that sets `window.readnext`.
 * Built in memory once per process; a failed build is not cached, so the next call retries.
 *
 * @example
 * const js = await buildSdk(); // "(()=>{...})();"
 */
export function buildSdk(): Promise<string> {
  cached ??= build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2019',
    platform: 'browser',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  }).then((r) => {
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
