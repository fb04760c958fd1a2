/**
 * The bot filter's user-agent list: crawlers and scripts that say what they are. Checked by the
 * collector's route for requests without the ingest key and not from readnext's own SDK (which
 * marks its posts with SDK_MARK), so a headless browser running the SDK (the project's browser
 * tests use headless Chromium) is never dropped: "HeadlessChrome" is deliberately not on the list.
 * Tests: test/core/events/bots.test.ts.
 *
 * 1. named crawlers and link unfurlers whose token carries no "bot" (Slurp, facebookexternalhit…);
 * 2. HTTP libraries and command-line clients (curl, wget, python-requests, Go, Java, Scrapy…);
 * 3. any product token ending in bot, crawler or spider followed by a version or a separator
 *    ("Googlebot/2.1", "bingbot/2.0", "Baiduspider/2.0", "AhrefsBot/7.0", "GPTBot/1.0"), the
 *    convention crawlers follow; a phone model such as "Cubot Note" has no slash and passes.
 */
const PATTERNS: readonly RegExp[] = [
  /slurp|facebookexternalhit|facebookcatalog|mediapartners-google|adsbot-google|feedfetcher-google|google-inspectiontool|storebot-google|ia_archiver|archive\.org_bot|embedly|quora link preview|skypeuripreview|whatsapp\/|telegrambot|discordbot|pinterest\/|bitlybot|nuzzel|redditbot|applebot|yahoo! slurp|yandex(?:bot|images|metrika|mobilebot)|petalbot|bytespider|ccbot|claudebot|anthropic-ai|perplexitybot|amazonbot|dataforseobot|semrushbot|mj12bot|dotbot|ahrefsbot|seznambot|duckduckbot|sogou|exabot|uptimerobot|pingdom|statuscake|site24x7/i,
  /^(?:curl|wget|python-requests|python-urllib|aiohttp|httpx|go-http-client|java|apache-httpclient|libwww-perl|scrapy|ruby|php|guzzlehttp|postmanruntime|insomnia)(?:\/|$)|\bscrapy\b|\bhttpclient\b/i,
  /[a-z0-9_-]*(?:bot|crawler|spider)(?:\/|;|\)|\+|-\d|\s*\d)/i,
];

/** How readnext's browser SDK marks its posts to /v1/events: a query parameter (sendBeacon can set no header). */
export const SDK_MARK = { param: 'sdk', value: 'readnext' } as const;

/**
 * Whether a request's User-Agent is on the bot list. No User-Agent is not a bot: servers posting
 * events with a client of their own often send none.
 * @example isBotUserAgent('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'); // true
 */
export function isBotUserAgent(ua: string | undefined): boolean {
  if (ua === undefined || ua === '') return false;
  return PATTERNS.some((p) => p.test(ua));
}
