// Types of scripts/build.mjs, for the tests and benchmarks that import it.
export const ROOT: string;
/** dist/main/cli.mjs: the entry of the `readnext` command. */
export const CLI_BUNDLE: string;
/** dist/sdk.js: the browser SDK. */
export const SDK_BUNDLE: string;
/** Builds both bundles and the dashboard now. */
export function build(): Promise<void>;
/** The CLI bundle's path, built first when missing or stale (in a checkout, unless `env` says production). */
export function ensureBuilt(opts?: { env?: Record<string, string | undefined> }): Promise<string>;
/** dist/dashboard: the dashboard's Vite build (index.html and assets/). */
export const DASHBOARD_DIR: string;
/** dist/dashboard/index.html, written last by each dashboard build. */
export const DASHBOARD_INDEX: string;
/** Builds the dashboard now (src/adapters/web/dashboard to dist/dashboard). */
export function buildDashboard(): Promise<void>;
