import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from '../../src/main/node-flags.js';

describe("the server's V8 flags", () => {
  it("are the ones `npm start` (the demo, a server too) and the readnext command's shebang pass", () => {
    const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
    const shebang = readFileSync('bin/readnext.mjs', 'utf8').split('\n')[0]!;
    expect(SERVER_NODE_FLAGS.length).toBeGreaterThan(0);
    for (const flag of SERVER_NODE_FLAGS) {
      expect(start.split(' ')).toContain(flag);
      expect(shebang.split(' ')).toContain(flag);
    }
    expect(start).toMatch(/^node .*bin\/readnext\.mjs demo$/);
    expect(shebang).toMatch(/^#!\/usr\/bin\/env -S node /);
  });
});
