// A window of whole UTC days, as the Data page's report (GET /v1/admin/data/report) and the Shadow
// page's off-policy estimates (GET /v1/admin/ope) take it: `since` and `until` are YYYY-MM-DD days,
// `until` excluded. The default window and the two date fields of their forms.

export const DAY_MS = 86_400_000;
export const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export interface DayWindow {
  since: string;
  until: string;
}

/** The last `days` UTC days, today included: `until` is tomorrow's midnight (excluded). */
export function lastDays(days: number, now = Date.now()): DayWindow {
  const tomorrow = (Math.floor(now / DAY_MS) + 1) * DAY_MS;
  return { since: isoDay(tomorrow - days * DAY_MS), until: isoDay(tomorrow) };
}

/** The "Since" and "Until" date fields of a form whose state holds a day window (ids `<idPrefix>-since`, `<idPrefix>-until`). */
export function DayWindowFields<W extends DayWindow>({ idPrefix, form, setForm }: { idPrefix: string; form: W; setForm: (w: W) => void }) {
  return (
    <>
      <div>
        <label for={`${idPrefix}-since`}>Since (UTC day)</label>
        <input
          id={`${idPrefix}-since`}
          type="date"
          required
          value={form.since}
          onInput={(e) => setForm({ ...form, since: e.currentTarget.value })}
        />
      </div>
      <div>
        <label for={`${idPrefix}-until`}>Until (UTC day, excluded)</label>
        <input
          id={`${idPrefix}-until`}
          type="date"
          required
          value={form.until}
          onInput={(e) => setForm({ ...form, until: e.currentTarget.value })}
        />
      </div>
    </>
  );
}
