// Types of scripts/build.mjs, for the tests and benchmarks that import it.
export const ROOT: string;
/** dist/main/cli.mjs: the entry of the `readnext` command. */
export const CLI_BUNDLE: string;
/** dist/sdk.js: the browser SDK. */
export const SDK_BUNDLE: string;
/** Builds both bundles now. */
export function build(): Promise<void>;
/** The CLI bundle's path, built first when missing or stale (in a checkout, unless `env` says production). */
export function ensureBuilt(opts?: { env?: Record<string, string | undefined> }): Promise<string>;
