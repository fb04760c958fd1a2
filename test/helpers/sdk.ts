import { ensureBuilt, SDK_BUNDLE } from '../../scripts/build.mjs';

/**
 * The built browser SDK (dist/sdk.js), built first when missing or older than a source file: the
 * server serves only what scripts/build.mjs built. Parallel test files may build at once (each
 * file is written whole, then renamed).
 */
export async function builtSdk(): Promise<string> {
  await ensureBuilt();
  return SDK_BUNDLE;
}
