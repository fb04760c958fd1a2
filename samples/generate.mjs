// Writes samples/marlowe-bay.jsonl: 60 made-up articles for trying readnext on an empty database
// (`./bin/readnext.mjs import articles samples/marlowe-bay.jsonl --rebase-dates`). Every text is
// assembled here from the templates below about an invented town, so the file is free of anyone
// else's rights (Apache-2.0 like the code). Seeded: running it again writes the same bytes.
//
//   node samples/generate.mjs
import { writeFileSync } from 'node:fs';
import { URL } from 'node:url';

const COUNT = 60;
const NEWEST = Date.parse('2026-12-01T18:00:00Z'); // --rebase-dates moves this to the import time
const SPACING_MS = 75 * 60_000; // one article every 75 minutes, going back
const TOWN = 'Marlowe Bay';

/** mulberry32: a small seeded PRNG (public domain, Tommy Ettinger), enough to pick templates. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(20261201);
const pick = (list) => list[Math.floor(random() * list.length)];

// Per section: subjects (with their tags) and what happens to them. A headline is subject + event.
const SECTIONS = {
  local: {
    subjects: [['The harbour ferry', ['ferries', 'harbour']], ['The old library', ['library']], ['The night bus', ['buses']], ['The covered market', ['market']], ['Northgate bridge', ['bridges', 'roads']], ['The seafront promenade', ['seafront']]],
    events: ['reopens after a year of repairs', 'gets a new timetable', 'faces a winter closure', 'wins a heritage grant', 'asks residents for ideas', 'extends its opening hours'],
  },
  politics: {
    subjects: [['The town council', ['council']], ['The harbour board', ['harbour', 'council']], ['The mayor', ['mayor']], ['The opposition group', ['council', 'opposition']], ['The schools committee', ['schools']], ['The regional assembly', ['region']]],
    events: ['votes on the new budget', 'delays the parking reform', 'publishes its housing plan', 'calls a public hearing', 'agrees a cross-party deal', 'reviews the ferry subsidy'],
  },
  business: {
    subjects: [['The fish auction', ['fishing', 'market']], ['A local brewery', ['brewing']], ['The shipyard', ['shipyard', 'jobs']], ['High-street shops', ['retail']], ['The solar cooperative', ['energy']], ['Harbour hotels', ['tourism']]],
    events: ['reports a record season', 'hires forty new staff', 'warns of rising costs', 'opens a second site', 'is sold to a regional group', 'cuts prices for the winter'],
  },
  science: {
    subjects: [['A seagrass survey', ['seagrass', 'marine']], ['The tide observatory', ['tides', 'climate']], ['A school robotics team', ['schools', 'robotics']], ['Bay water samples', ['marine', 'water']], ['The bird ringing station', ['birds']], ['A coastal erosion study', ['erosion', 'climate']]],
    events: ['finds more than expected', 'needs volunteers this spring', 'publishes its first results', 'gets a three-year grant', 'surprises researchers', 'shares its data openly'],
  },
  sport: {
    subjects: [['The rowing club', ['rowing']], ['Marlowe Bay United', ['football']], ['The harbour swim', ['swimming']], ['The youth cycling team', ['cycling']], ['The sailing regatta', ['sailing']], ['The town cricket side', ['cricket']]],
    events: ['wins in the last minute', 'is cancelled by the wind', 'signs a new coach', 'breaks a thirty-year record', 'loses the derby', 'draws its biggest crowd'],
  },
  culture: {
    subjects: [['The lighthouse theatre', ['theatre']], ['The folk festival', ['music', 'festival']], ['The harbour museum', ['museum', 'history']], ['A mural on Quay Street', ['art']], ['The town choir', ['music']], ['The film society', ['film']]],
    events: ['announces its new season', 'celebrates fifty years', 'moves to a bigger hall', 'opens a free exhibition', 'looks for new members', 'sells out in a day'],
  },
};
const PEOPLE = ['Ada Quayle', 'Tomas Brenner', 'Mei Tanaka', 'Joss Ferrante', 'Nadia Okafor', 'Ivo Lindqvist'];
const SAID = ['said', 'told the paper', 'said on Tuesday', 'wrote in a statement'];
const SECOND = [
  'The change comes after a long debate in {town}, where many residents have asked for it for years.',
  'Figures shared this week show the numbers moving in the same direction for a third year running.',
  'Not everyone agrees: a group of residents wants the decision reviewed before the summer.',
  'Similar plans in neighbouring towns have had mixed results, according to the regional office.',
];
const THIRD = [
  'A public meeting is planned at the town hall next month.',
  'More details are expected before the end of the year.',
  'The paper will follow the story as it develops.',
  'Readers can send questions to the newsroom.',
];
const lowerFirst = (s) => s.charAt(0).toLowerCase() + s.slice(1);

const names = Object.keys(SECTIONS);
const seen = new Set();
const lines = [];
for (let i = 0; i < COUNT; i++) {
  const section = names[i % names.length];
  const { subjects, events } = SECTIONS[section];
  let subject, tags, event;
  do {
    [subject, tags] = pick(subjects);
    event = pick(events);
  } while (seen.has(`${subject} ${event}`));
  seen.add(`${subject} ${event}`);
  const title = `${subject} ${event}`;
  const person = pick(PEOPLE);
  const lead = `${title} in ${TOWN}, ${person} ${pick(SAID)}.`;
  const body = [
    `${lead} "It matters to a lot of people here," ${person.split(' ')[0]} added, speaking about ${lowerFirst(subject)}.`,
    pick(SECOND).replace('{town}', TOWN),
    pick(THIRD),
  ].join('\n\n');
  const id = `sample-${String(i + 1).padStart(3, '0')}`;
  lines.push(JSON.stringify({
    id,
    title,
    publishedAt: new Date(NEWEST - i * SPACING_MS).toISOString(),
    url: `https://example.org/marlowe-bay/${id}`,
    section,
    tags: [...tags, 'marlowe bay'],
    author: pick(PEOPLE),
    lead,
    body,
    language: 'en',
  }));
}
writeFileSync(new URL('./marlowe-bay.jsonl', import.meta.url), `${lines.join('\n')}\n`);
