/** The formats `readnext import articles` reads; apart from their parsers, which `--help` does not load. */
export const IMPORT_FORMATS = ['jsonl', 'rss', 'mind', 'wikipedia-current-events'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
