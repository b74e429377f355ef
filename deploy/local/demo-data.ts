// `npm run demo:load`: fills a running suite (npm start) with demo data through the HTTP
// API: an organisation tree, 3,000 users, audiences, roles, a scoped administrator, static
// and dynamic lists, then a catalogue (demo-catalog.ts), then progress (demo-progress.ts),
// then instructor-led sessions (demo-sessions.ts), then tests with attempts (demo-tests.ts).
// Run once; a second run sees the data and stops. Each part checks on its own, so a suite
// loaded before the catalogue (or the statistics) existed gets it.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { catalogLoaded, HttpError, loadCatalog } from './demo-catalog';
import { loadProgress, progressLoaded } from './demo-progress';
import { loadSessions, sessionsLoaded } from './demo-sessions';
import { loadTests, testsLoaded } from './demo-tests';

const root = resolve(__dirname, '..', '..');
const dataDir = resolve(root, process.env.ASSISTANTS_DATA_DIR ?? '.data');
const api = process.env.ASSISTANTS_API_URL ?? `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 3000}`;
const login = process.env.IDENTITY_BOOTSTRAP_ADMIN_LOGIN ?? 'admin';
const passwordFile = join(dataDir, 'admin-password');
const password =
  process.env.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD ?? (existsSync(passwordFile) ? readFileSync(passwordFile, 'utf8').trim() : undefined);
const USERS = Number(process.env.DEMO_USERS ?? 3000);

if (!password) {
  console.error(`no administrator password: start the suite with npm start first (it writes ${passwordFile})`);
  process.exit(1);
}
const auth = `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;

async function call<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const send = () =>
    fetch(`${api}${path}`, {
      method,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  let response = await send();
  while (response.status === 429) {
    // Over the gateway's rate limit: wait as long as it says, then go on.
    await new Promise((done) => setTimeout(done, Number(response.headers.get('retry-after') ?? 1) * 1000));
    response = await send();
  }
  const text = await response.text();
  if (!response.ok) throw new HttpError(response.status, `${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Uploads a CSV file for an import of this kind, runs it and waits for its end (the demo's
 * instructor-led sessions come as an I8 file). */
async function importFile(kind: string, csv: string): Promise<Record<string, number>> {
  const form = new FormData();
  form.append('file', new Blob([Buffer.from(csv)]), `${kind}.csv`);
  const response = await fetch(`${api}/v1/imports/kinds/${kind}/uploads`, { method: 'POST', headers: { authorization: auth }, body: form });
  const uploaded = (await response.json()) as { uploadId: string };
  if (!response.ok) throw new HttpError(response.status, `upload of a ${kind} file: ${response.status} ${JSON.stringify(uploaded)}`);
  const job = await call<{ id: string }>('POST', '/v1/imports', { uploadId: uploaded.uploadId });
  for (;;) {
    const seen = await call<{ status: string; counts: Record<string, number> }>('GET', `/v1/imports/${job.id}`);
    if (seen.status === 'completed') return seen.counts;
    if (seen.status === 'failed') throw new Error(`the ${kind} import failed: ${JSON.stringify(seen)}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

/** Deterministic choices, so that every demo database looks the same. */
let seed = 42;
function pick<T>(items: readonly T[]): T {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  // The high bits: the low bits of this generator repeat with a short period.
  return items[Math.floor((seed / 2 ** 31) * items.length)];
}

const LAST_NAMES = [
  'Martin',
  'Bernard',
  'Dubois',
  'Thomas',
  'Robert',
  'Richard',
  'Petit',
  'Durand',
  'Leroy',
  'Moreau',
  'Simon',
  'Laurent',
  'Lefebvre',
  'Michel',
  'Garcia',
  'Fernandez',
  'Lopez',
  'Smith',
  'Jones',
  'Taylor',
  'Brown',
  'Wilson',
  'Dupont',
  'Dupuis',
  'Fontaine',
  'Chevalier',
  'Roux',
  'Vincent',
  'Morel',
  'Girard',
];
const FIRST_NAMES = [
  'Marie',
  'Jean',
  'Pierre',
  'Sophie',
  'Camille',
  'Lucas',
  'Léa',
  'Hugo',
  'Emma',
  'Louis',
  'Chloé',
  'Gabriel',
  'Inès',
  'Jules',
  'Alice',
  'Carmen',
  'Pablo',
  'Lucía',
  'Oliver',
  'Amelia',
  'Harry',
  'Isla',
];
const COUNTRIES = [
  { extId: 'DEMO-FR', label: 'France', language: 'fr-FR', cities: ['Paris', 'Lyon', 'Lille'] },
  { extId: 'DEMO-ES', label: 'Spain', language: 'es-ES', cities: ['Madrid', 'Barcelona'] },
  { extId: 'DEMO-UK', label: 'United Kingdom', language: 'en-EN', cities: ['London', 'Manchester'] },
] as const;
const DEPARTMENTS = ['Sales', 'Support', 'IT'];
const AUDIENCES = ['Managers', 'Sales people', 'New hires', 'Safety', 'Remote workers'];

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

async function loadIdentity() {
  const departments: { id: string; country: (typeof COUNTRIES)[number]; city: string; department: string }[] = [];
  const cityIds: Record<string, string> = {};
  for (const country of COUNTRIES) {
    const countryOrg = await call('POST', '/v1/organisations', { extId: country.extId, label: country.label, language: country.language });
    for (const city of country.cities) {
      const cityOrg = await call('POST', '/v1/organisations', {
        extId: `${country.extId}-${city.toUpperCase()}`,
        label: city,
        parentId: countryOrg.id,
        city,
      });
      cityIds[city] = cityOrg.id;
      for (const department of DEPARTMENTS) {
        const org = await call('POST', '/v1/organisations', {
          extId: `${country.extId}-${city.toUpperCase()}-${department.toUpperCase()}`,
          label: `${city} ${department}`,
          parentId: cityOrg.id,
        });
        departments.push({ id: org.id, country, city, department });
      }
    }
  }
  const audiences: Record<string, string> = {};
  for (const name of AUDIENCES) audiences[name] = (await call('POST', '/v1/audiences', { name })).id;
  console.log(`${departments.length} departments in ${Object.keys(cityIds).length} cities, ${AUDIENCES.length} audiences`);

  const userIds: string[] = [];
  const specs = Array.from({ length: USERS }, (_, i) => {
    const lastName = pick(LAST_NAMES);
    const firstName = pick(FIRST_NAMES);
    const place = pick(departments);
    const login = `${firstName[0]}${lastName}${i}`
      .toLowerCase()
      .normalize('NFD')
      .replace(/[^a-z0-9]/g, '');
    const audienceIds = [pick([...Object.values(audiences), '', '', ''])].filter(Boolean);
    if (place.department === 'Sales') audienceIds.push(audiences['Sales people']);
    return {
      login,
      extId: `EMP${String(100000 + i)}`,
      lastName,
      firstName,
      email: `${login}@demo.example`,
      language: place.country.language,
      organisationId: place.id,
      city: place.city,
      custom1: `promo ${pick(['2021', '2022', '2023', '2024', '2025'])}`,
      custom2: place.department,
      disabled: i % 20 === 19,
      audienceIds: [...new Set(audienceIds)],
    };
  });
  await inBatches(specs, 8, async (spec) => {
    userIds.push((await call('POST', '/v1/users', spec)).id);
  });
  console.log(`${userIds.length} users`);

  const manager = await call('POST', '/v1/roles', {
    name: 'User manager',
    description: 'Manages the users and lists of an organisation sub-tree',
    permissions: ['users:read', 'users:write', 'organisations:read', 'lists:read', 'lists:write', 'roles:grant'],
  });
  await call('POST', '/v1/roles', { name: 'Viewer', permissions: ['users:read', 'organisations:read', 'lists:read'] });
  const france = departments.find((d) => d.country.extId === 'DEMO-FR')!;
  const franceId = (await call('GET', '/v1/organisations?query=DEMO-FR')).items.find((o: { extId: string }) => o.extId === 'DEMO-FR').id;
  const demoPassword = randomBytes(12).toString('base64url');
  const frAdmin = await call('POST', '/v1/users', {
    login: 'admin-fr',
    lastName: 'Administrator',
    firstName: 'France',
    organisationId: france.id,
    password: demoPassword,
  });
  await call('POST', `/v1/users/${frAdmin.id}/roles`, { roleIds: [manager.id], organisationId: franceId });
  const passwords = join(dataDir, 'demo-passwords');
  writeFileSync(passwords, `admin-fr ${demoPassword}\n`, { mode: 0o600 });

  await call('POST', '/v1/lists', { name: 'Onboarding 2026', type: 'static', description: 'Hand-picked', memberIds: userIds.slice(0, 50) });
  await call('POST', '/v1/lists', { name: 'Promo 2024', type: 'dynamic', criteria: { custom1: '2024' } });
  // Owned by France: admin-fr sees and changes it (the lists above belong to the root).
  await call('POST', '/v1/lists', {
    name: 'Lyon staff',
    type: 'dynamic',
    ownerOrganisationId: franceId,
    criteria: { organisationId: cityIds.Lyon, includeSubOrganisations: true },
  });
  const folder = await call('POST', '/v1/list-folders', { name: 'Safety' });
  await call('POST', '/v1/lists', { name: 'Safety training', type: 'dynamic', folderId: folder.id, criteria: { audience: 'safety' } });
  console.log(`roles, lists and a scoped administrator "admin-fr" (France only; password in ${passwords})`);
}

/** The demo audiences by name, whichever run created them. */
async function demoAudiences(): Promise<Record<string, string>> {
  const { items } = await call<{ items: { id: string; name: string }[] }>('GET', '/v1/audiences?limit=500');
  return Object.fromEntries(items.filter((a) => AUDIENCES.includes(a.name)).map((a) => [a.name, a.id]));
}

async function main() {
  const started = Date.now();
  const identityLoaded = (await call('GET', '/v1/organisations?query=DEMO-FR')).total > 0;
  const catalogueLoaded = await catalogLoaded(call);
  if (catalogueLoaded === undefined) {
    console.error('the catalog service is unavailable (the gateway answers 503): start the whole suite with npm start');
    process.exit(1);
  }
  const progressThere = identityLoaded && catalogueLoaded && (await progressLoaded(call));
  const sessionsThere = catalogueLoaded && (await sessionsLoaded(call));
  const testsThere = await testsLoaded(call);
  if (progressThere && sessionsThere && testsThere) {
    console.log('demo data is already loaded');
    return;
  }
  if (identityLoaded) console.log('organisations, users and lists are already loaded');
  else await loadIdentity();
  if (catalogueLoaded) console.log('the catalogue is already loaded');
  else await loadCatalog(call, await demoAudiences());
  if (progressThere) console.log('the progress is already loaded');
  else await loadProgress(call);
  if (sessionsThere) console.log('the instructor-led sessions are already loaded');
  else await loadSessions(importFile, login);
  if (testsThere) console.log('the tests are already loaded');
  else await loadTests(call);
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  console.error(String(err));
  process.exit(1);
});
