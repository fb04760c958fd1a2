import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kyselyOf } from '../../../src/adapters/storage/testing.js';
import { admin, testApp, type TestApp } from '../../helpers/app.js';
import { BACKENDS } from '../../helpers/databases.js';
import { click, impression, pageView, read, T0 } from '../../helpers/events.js';

/** Addresses that must never be stored: the proxy chain's and the socket's, IPv4 and IPv6. */
const FORWARDED = ['203.0.113.77', '2001:db8::5e'];
const PROXY = '198.51.100.23';
const REMOTE = '192.0.2.44';
const IPS = [...FORWARDED, PROXY, REMOTE];
const headers = {
  'x-forwarded-for': `${FORWARDED.join(', ')}, ${PROXY}`,
  'x-real-ip': FORWARDED[0]!,
  'user-agent': 'Mozilla/5.0 Firefox/121.0',
};

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`raw IP addresses are never stored (${backend.name})`, () => {
    let cleanup: () => Promise<void>;
    let t: TestApp;

    beforeAll(async () => {
      const db = await backend.create();
      cleanup = db.cleanup;
      // Behind a trusted proxy: the app does read the forwarded address (for its rate limits).
      t = await testApp({ db: db.url, trustProxy: true });
      const articles = ['a1', 'a2', 'a3'].map((id, i) => ({
        id,
        title: `Title ${id}`,
        url: `https://news.example/${id}`,
        section: 'world',
        publishedAt: new Date(T0 - (i + 1) * 3_600_000).toISOString(),
      }));
      expect((await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: admin, payload: { articles } })).statusCode).toBe(
        200,
      );
    }, 60_000);

    afterAll(async () => {
      await t?.close();
      await cleanup?.();
    });

    it('stores events and serve records sent with X-Forwarded-For and a remote address, and no column of any table holds one', async () => {
      for (const reader of ['r1', 'r2']) {
        const o = { readerId: reader, sessionId: `s-${reader}` };
        const rec = await t.app.inject({
          method: 'GET',
          url: `/v1/recommendations?placement=read-next&article=a1&reader=${reader}&session=s-${reader}&k=2`,
          headers,
          remoteAddress: REMOTE,
        });
        expect(rec.statusCode).toBe(200);
        const recommId = rec.json().recommId as string;
        const events = [
          pageView(T0 - 5000, o),
          impression(T0 - 4000, { ...o, recommId }),
          click(T0 - 3000, { ...o, recommId }),
          read(T0 - 2000, o),
        ];
        for (const [url, via] of [
          ['/v1/events', 'fetch'],
          ['/v1/events?sdk=readnext', 'sdk'],
        ] as const) {
          const batch = via === 'fetch' ? events.slice(0, 2) : events.slice(2);
          const res = await t.app.inject({
            method: 'POST',
            url,
            payload: JSON.stringify({ events: batch }),
            headers: { ...headers, 'content-type': 'text/plain' },
            remoteAddress: REMOTE,
          });
          expect(res.json()).toMatchObject({ accepted: 2 });
        }
      }
      await t.services.recordWriter.flush();
      const db = kyselyOf(t.services.storage);
      expect(
        Number(
          (
            await db
              .selectFrom('serves')
              .select((e) => e.fn.countAll().as('n'))
              .executeTakeFirst()
          )?.n,
        ),
      ).toBe(2);
      expect(
        Number(
          (
            await db
              .selectFrom('events')
              .select((e) => e.fn.countAll().as('n'))
              .executeTakeFirst()
          )?.n,
        ),
      ).toBe(8);

      // Every column of every table, read as text.
      const tables =
        t.services.storage.dialect === 'sqlite'
          ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)
          : await sql<{
              name: string;
            }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(db);
      let cells = 0;
      const found: string[] = [];
      for (const { name } of tables.rows) {
        const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
        for (const row of rows.rows)
          for (const [column, value] of Object.entries(row)) {
            if (value === null) continue;
            cells++;
            const text = Buffer.isBuffer(value)
              ? value.toString('latin1')
              : typeof value === 'object'
                ? JSON.stringify(value)
                : String(value);
            for (const ip of IPS) if (text.includes(ip)) found.push(`${name}.${column}: ${ip}`);
          }
      }
      expect(cells).toBeGreaterThan(100);
      expect(found).toEqual([]);
    });
  });
}
