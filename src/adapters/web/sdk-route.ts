import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';

export interface SdkRouteOptions {
  /** The built SDK: `dist/sdk.js`, written by scripts/build.mjs (main knows where). */
  file: string;
  /** Where the "not built" error goes; default stderr. */
  log?: (line: string) => void;
}

/** What `GET /sdk.js` answers while the SDK is not built: a script that only says so. */
const NOT_BUILT = '/* readnext: the SDK is not built on this server: run `npm run build` */\n';

/**
 * Serves the browser SDK at `GET /sdk.js`. The SDK (`sdk/readnext.ts`) is bundled at build time
 * only (scripts/build.mjs, run at install, by `npm run build` and by bin/readnext.mjs in a checkout);
 * this reads the built file once, while the plugin registers. A missing file does not stop the
 * server (the API does not need it): it is logged once, and `/sdk.js` answers 503 until a restart
 * after `npm run build`. `demoSite()` registers this plugin itself; register it alone to serve
 * the SDK to a newsroom's own site without the demo.
 *
 * @example
 * await app.register(sdkRoute({ file: '/srv/readnext/dist/sdk.js' }));
 */
export const sdkRoute =
  (opts: SdkRouteOptions): FastifyPluginAsync =>
  async (app) => {
    let code: string | undefined;
    try {
      code = await readFile(opts.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      (opts.log ?? ((l) => process.stderr.write(`${l}\n`)))(
        `readnext: the browser SDK ${opts.file} is missing: run \`npm run build\` (GET /sdk.js answers 503 until then)`,
      );
    }
    const etag = code === undefined ? undefined : `"${createHash('sha256').update(code).digest('base64url').slice(0, 22)}"`;
    app.get('/sdk.js', { schema: { hide: true } }, async (req, reply) => {
      // cross-origin: newsrooms load the SDK from their own pages (helmet's default would be same-origin).
      void reply
        .header('x-content-type-options', 'nosniff')
        .header('cross-origin-resource-policy', 'cross-origin')
        .type('application/javascript; charset=utf-8');
      if (code === undefined) return reply.code(503).header('cache-control', 'no-store').send(NOT_BUILT);
      // Not versioned in its URL: a short max-age, then a cheap revalidation by ETag.
      void reply.header('cache-control', 'public, max-age=300').header('etag', etag); // 5 minutes
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return code;
    });
  };
