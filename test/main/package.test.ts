import { spawn } from 'node:child_process';
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_BUNDLE, ensureBuilt, ROOT } from '../../scripts/build.mjs';

interface PackageJson {
  bin: Record<string, string>;
  files: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

/** Packages the bundle's modules import (static `from "x"` and dynamic `import("x")`), node builtins left out. */
function bundleImports(dir: string): Set<string> {
  const out = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.mjs'))) {
    const text = readFileSync(join(dir, f), 'utf8');
    // esbuild writes static imports at the top level (`import ... from "x";`, `import "x";`) and keeps `import("x")`.
    const specs = [...text.matchAll(/^import\s(?:[^;]*?\sfrom\s)?"([^"]+)";/gms), ...text.matchAll(/\bimport\("([^"]+)"\)/g)].map(
      (m) => m[1]!,
    );
    for (const spec of specs) {
      if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      out.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return out;
}

describe('the package npm pack makes', () => {
  it('needs at run time only its dependencies: every package the built command imports is one', async () => {
    await ensureBuilt();
    const imported = bundleImports(join(ROOT, 'dist', 'main'));
    expect(imported.size).toBeGreaterThan(5);
    const missing = [...imported].filter((p) => !(p in pkg.dependencies));
    expect(missing).toEqual([]);
    // ...and the build-only packages are not among them (an installed package has no devDependencies).
    for (const p of ['esbuild', 'vite', 'tsx', 'preact', 'uplot']) {
      expect(pkg.devDependencies).toHaveProperty(p);
      expect(pkg.dependencies).not.toHaveProperty(p);
    }
  });

  it('ships what the command reads from disk and no sources', () => {
    expect(pkg.files).toEqual(expect.arrayContaining(['dist/', 'worlds/', 'scripts/build.mjs', pkg.bin.readnext]));
    expect(CLI_BUNDLE.startsWith(join(ROOT, 'dist'))).toBe(true);
    expect(pkg.files.some((f) => /^(src|test|bench)\b/.test(f))).toBe(false);
  });

  // npm pack, npm install of the tarball into an empty folder (better-sqlite3 compiles: about a
  // minute), `npx readnext serve` there, /healthz and /v1/recommendations: scripts/pack-check.mjs.
  it.skipIf(process.env.READNEXT_TEST_PACK !== '1')(
    'installs into an empty folder and serves (slow: runs only with READNEXT_TEST_PACK=1)',
    async () => {
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun) => {
        const child = spawn(process.execPath, [join(ROOT, 'scripts', 'pack-check.mjs')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.once('exit', (c) => resolveRun({ code: c, stdout: out, stderr: err }));
      });
      const line = stdout.split('\n').find((l) => l.startsWith('PACK_CHECK '));
      expect(line, stderr).toBeDefined();
      const report = JSON.parse(line!.slice('PACK_CHECK '.length)) as {
        ok: boolean;
        error?: string;
        healthz: { status: string };
        recommendations: { status: number; body: { items: unknown[] } };
      };
      expect(report.error).toBeUndefined();
      expect(report.ok).toBe(true);
      expect(code).toBe(0);
      expect(report.healthz.status).toBe('ok');
      expect(report.recommendations.status).toBe(200);
      expect(Array.isArray(report.recommendations.body.items)).toBe(true);
    },
    600_000,
  );
});
