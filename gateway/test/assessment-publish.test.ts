import type { TestStack } from '@assistants/testing';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { unzipFiles } from '../../services/assessment/src/zip';
import { createTest, post, scopedAdministrator, startAssessmentStack, type AssessmentStack } from './assessment-support';

/**
 * T4, LMS publication, over real HTTP on the whole stack: tests packaged as one course in
 * SCORM 1.2, SCORM 2004 4th edition and xAPI; each manifest parsed and checked (namespaces,
 * schema version, organisation/items/resources, every file listed present in the zip, the
 * xAPI launch and endpoint); the course created in the catalogue with its external id and
 * one lesson per test; the zip downloaded. ROOT > EU > FR, ROOT > US: fr-publisher holds
 * tests:read on FR and catalog:write on the root — a test of US is 404, as is a package
 * holding one; fr-reader lacks catalog:write — 403 and nothing kept.
 */
let stack: TestStack;
let org: AssessmentStack['org'];
const test: Record<string, string> = {};
let frPublisher: string;
let frReader: string;

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  isArray: (name) => ['item', 'file', 'activity'].includes(name),
});

const newTest = (externalId: string, organisationId: string, passingScorePercent?: number) => ({
  externalId,
  title: `Quiz ${externalId}`,
  organisationId,
  passingScorePercent,
  blocks: [
    {
      title: 'Block',
      questions: [
        {
          type: 'single_choice',
          title: 'Capital',
          choices: [
            { id: 'a', label: 'Paris' },
            { id: 'b', label: 'Lyon' },
          ],
          expected: { choiceId: 'a' },
          maxScore: 2,
        },
        { type: 'true_false', title: 'Sky', expected: { value: true }, maxScore: 1 },
      ],
    },
  ],
});

/** The package downloaded and unzipped, with its parsed manifest. */
async function download(id: string, auth?: string) {
  const got = await stack.http('GET', `/v1/packages/${id}`, { auth });
  expect(got.status).toBe(200);
  expect(got.headers.get('content-type')).toBe('application/zip');
  const files = await unzipFiles(got.raw);
  const names = [...files.keys()].sort();
  const text = async (name: string) => files.get(name)!.toString('utf8');
  return { headers: got.headers, names, text };
}

const packageRows = async () => (await stack.assessment.db.query<{ n: number }>('SELECT count(*)::int AS n FROM packages')).rows[0].n;

beforeAll(async () => {
  ({ stack, org } = await startAssessmentStack());
  test.FR = await createTest(stack, newTest('P-FR', org.FR, 50));
  test.FR2 = await createTest(stack, newTest('P-FR2', org.FR));
  test.US = await createTest(stack, newTest('P-US', org.US, 80));

  const publisher = await scopedAdministrator(stack, 'fr-publisher', org.FR, ['tests:read']);
  const editor = (await post(stack, '/v1/roles', { name: 'Catalog editor', permissions: ['catalog:write', 'catalog:read'] })).id;
  await post(stack, `/v1/users/${publisher.id}/roles`, { roleIds: [editor], organisationId: org.ROOT });
  frPublisher = publisher.auth;
  frReader = (await scopedAdministrator(stack, 'fr-reader', org.FR, ['tests:read'])).auth;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

it('SCORM 1.2: one course of two SCOs, a valid manifest listing files that exist, the course in the catalogue', async () => {
  const published = await stack.http('POST', '/v1/tests/publish', {
    body: {
      testIds: [test.FR, test.FR2],
      format: 'scorm12',
      courseName: 'Safety & <basics>',
      externalId: 'PUB-12',
      author: 'Ann Author',
      description: 'Two quizzes',
      targetServer: 'https://lms.example.test/',
    },
  });
  expect(published.status).toBe(201);
  expect(published.body).toMatchObject({
    format: 'scorm12',
    courseName: 'Safety & <basics>',
    externalId: 'PUB-12',
    author: 'Ann Author',
    targetServer: 'https://lms.example.test/',
    testIds: [test.FR, test.FR2],
    fileName: 'PUB-12-scorm12.zip',
    download: `/v1/packages/${published.body.id}`,
  });
  expect(published.headers.get('location')).toBe(`/v1/packages/${published.body.id}`);

  const { headers, names, text } = await download(published.body.id);
  expect(headers.get('content-disposition')).toBe('attachment; filename="PUB-12-scorm12.zip"');
  const source = await text('imsmanifest.xml');
  expect(XMLValidator.validate(source)).toBe(true);
  const { manifest } = xml.parse(source);
  expect(manifest).toMatchObject({
    '@xmlns': 'http://www.imsproject.org/xsd/imscp_rootv1p1p2',
    '@xmlns:adlcp': 'http://www.adlnet.org/xsd/adlcp_rootv1p2',
    '@xmlns:imsmd': 'http://www.imsglobal.org/xsd/imsmd_rootv1p2p1',
    '@xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
  });
  expect(manifest['@xsi:schemaLocation']).toContain('http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd');
  expect(manifest.metadata).toMatchObject({ schema: 'ADL SCORM', schemaversion: '1.2' });
  expect(manifest.metadata['imsmd:lom']['imsmd:general']['imsmd:title']['imsmd:langstring']['#text']).toBe('Safety & <basics>');
  expect(manifest.metadata['imsmd:lom']['imsmd:technical']['imsmd:location']['#text']).toBe('https://lms.example.test/');
  const organization = manifest.organizations.organization;
  expect(manifest.organizations['@default']).toBe(organization['@identifier']);
  expect(organization.title).toBe('Safety & <basics>');
  expect(organization.item.map((i: Record<string, string>) => [i.title, i['@parameters'], i['adlcp:masteryscore']])).toEqual([
    ['Quiz P-FR', '?test=0', '50'],
    ['Quiz P-FR2', '?test=1', undefined],
  ]);
  const resource = manifest.resources.resource;
  for (const item of organization.item) expect(item['@identifierref']).toBe(resource['@identifier']);
  expect(resource).toMatchObject({ '@type': 'webcontent', '@adlcp:scormtype': 'sco', '@href': 'index.html' });
  const listed = resource.file.map((f: Record<string, string>) => f['@href']);
  // Every file listed is in the zip, and every file of the zip but the manifest is listed.
  expect([...listed, 'imsmanifest.xml'].sort()).toEqual(names);
  expect(await text('data.js')).toContain('"choiceId":"a"');

  const course = await stack.http('GET', `/v1/courses/${published.body.courseId}`);
  expect(course.status).toBe(200);
  expect(course.body).toMatchObject({ code: 'PUB-12', name: 'Safety & <basics>', description: 'Two quizzes', provider: 'Ann Author' });
  expect(course.body.lessons.map((l: { code: string; name: string; type: string }) => [l.code, l.name, l.type])).toEqual([
    ['PUB-12-T1', 'Quiz P-FR', 'L'],
    ['PUB-12-T2', 'Quiz P-FR2', 'L'],
  ]);
});

it('SCORM 2004 4th edition: its namespaces, schema version, scormType and the pass mark as a normalized measure', async () => {
  const published = await post(stack, '/v1/tests/publish', {
    testIds: [test.FR],
    format: 'scorm2004',
    courseName: 'Safety 2004',
    externalId: 'PUB-2004',
  });
  const { names, text } = await download(published.id);
  const source = await text('imsmanifest.xml');
  expect(XMLValidator.validate(source)).toBe(true);
  const { manifest } = xml.parse(source);
  expect(manifest).toMatchObject({
    '@xmlns': 'http://www.imsglobal.org/xsd/imscp_v1p1',
    '@xmlns:adlcp': 'http://www.adlnet.org/xsd/adlcp_v1p3',
    '@xmlns:adlseq': 'http://www.adlnet.org/xsd/adlseq_v1p3',
    '@xmlns:adlnav': 'http://www.adlnet.org/xsd/adlnav_v1p3',
    '@xmlns:imsss': 'http://www.imsglobal.org/xsd/imsss',
  });
  expect(manifest.metadata).toMatchObject({ schema: 'ADL SCORM', schemaversion: '2004 4th Edition' });
  expect(manifest.metadata.lom['@xmlns']).toBe('http://ltsc.ieee.org/xsd/LOM');
  const [item] = manifest.organizations.organization.item;
  expect(item['imsss:sequencing']['imsss:objectives']['imsss:primaryObjective']).toMatchObject({
    '@satisfiedByMeasure': 'true',
    'imsss:minNormalizedMeasure': '0.5000',
  });
  const resource = manifest.resources.resource;
  expect(resource).toMatchObject({ '@adlcp:scormType': 'sco', '@href': 'index.html', '@identifier': item['@identifierref'] });
  expect([...resource.file.map((f: Record<string, string>) => f['@href']), 'imsmanifest.xml'].sort()).toEqual(names);
});

it('xAPI: a generated external id, tincan.xml with the course and its tests launching the player at the LRS endpoint', async () => {
  const missing = await stack.http('POST', '/v1/tests/publish', { body: { testIds: [test.FR], format: 'xapi', courseName: 'No LRS' } });
  expect([missing.status, missing.body.field]).toEqual([400, 'targetServer']);
  const notUrl = await stack.http('POST', '/v1/tests/publish', {
    body: { testIds: [test.FR], format: 'xapi', courseName: 'No LRS', targetServer: 'lrs.example.test' },
  });
  expect([notUrl.status, notUrl.body.field]).toEqual([400, 'targetServer']);

  const published = await post(stack, '/v1/tests/publish', {
    testIds: [test.FR, test.FR2],
    format: 'xapi',
    courseName: 'Safety xAPI',
    targetServer: 'https://lrs.example.test/xapi/',
  });
  expect(published.externalId).toMatch(/^TESTS-\d{8}-[0-9A-F]{6}$/);
  const { names, text } = await download(published.id);
  expect(names).not.toContain('imsmanifest.xml');
  const source = await text('tincan.xml');
  expect(XMLValidator.validate(source)).toBe(true);
  const { tincan } = xml.parse(source);
  expect(tincan['@xmlns']).toBe('http://projecttincan.com/tincan.xsd');
  const activities = tincan.activities.activity;
  expect(activities.map((a: Record<string, string>) => [a['@id'], a['@type']])).toEqual([
    [`urn:assistants:course:${published.externalId}`, 'http://adlnet.gov/expapi/activities/course'],
    [`urn:assistants:course:${published.externalId}:test:P-FR`, 'http://adlnet.gov/expapi/activities/assessment'],
    [`urn:assistants:course:${published.externalId}:test:P-FR2`, 'http://adlnet.gov/expapi/activities/assessment'],
  ]);
  for (const activity of activities) {
    const launch = new URL(activity.launch['#text'], 'http://package/');
    expect(names).toContain(launch.pathname.slice(1));
    expect(launch.searchParams.get('endpoint')).toBe('https://lrs.example.test/xapi/');
  }
  expect(activities[2].name['#text']).toBe('Quiz P-FR2');
  const course = await stack.http('GET', `/v1/courses/${published.courseId}`);
  expect(course.body.code).toBe(published.externalId);
});

it('refuses an external id the catalogue already has (409) and keeps nothing', async () => {
  const before = await packageRows();
  const taken = await stack.http('POST', '/v1/tests/publish', {
    body: { testIds: [test.FR], format: 'scorm12', courseName: 'Again', externalId: 'pub-12' },
  });
  expect([taken.status, taken.body.field]).toEqual([409, 'externalId']);
  const spaces = await stack.http('POST', '/v1/tests/publish', {
    body: { testIds: [test.FR], format: 'scorm12', courseName: 'Spaces', externalId: 'PUB 13' },
  });
  expect([spaces.status, spaces.body.field]).toEqual([400, 'externalId']);
  expect(await packageRows()).toBe(before);
});

it('a scoped administrator publishes only tests of its scope: a test outside it is 404, as is a package holding one', async () => {
  const before = await packageRows();
  const outside = await stack.http('POST', '/v1/tests/publish', {
    auth: frPublisher,
    body: { testIds: [test.FR, test.US], format: 'scorm12', courseName: 'Mixed', externalId: 'PUB-MIXED' },
  });
  expect([outside.status, outside.body.field]).toEqual([404, 'testIds[1]']);
  expect(await packageRows()).toBe(before);
  const courses = await stack.catalog.db.query("SELECT 1 FROM courses WHERE lower(code) = 'pub-mixed'");
  expect(courses.rows).toEqual([]);

  const mine = await stack.http('POST', '/v1/tests/publish', {
    auth: frPublisher,
    body: { testIds: [test.FR], format: 'scorm2004', courseName: 'France only', externalId: 'PUB-FR' },
  });
  expect(mine.status).toBe(201);
  await download(mine.body.id, frPublisher);

  const theirs = await post(stack, '/v1/tests/publish', {
    testIds: [test.FR, test.US],
    format: 'scorm12',
    courseName: 'Both',
    externalId: 'PUB-BOTH',
  });
  const hidden = await stack.http('GET', `/v1/packages/${theirs.id}`, { auth: frPublisher });
  expect(hidden.status).toBe(404);
  expect(hidden.headers.get('content-type')).toContain('application/json');
});

it('without catalog:write the course cannot be created: 403, and neither package nor course is kept', async () => {
  const before = await packageRows();
  const denied = await stack.http('POST', '/v1/tests/publish', {
    auth: frReader,
    body: { testIds: [test.FR], format: 'scorm12', courseName: 'Denied', externalId: 'PUB-DENIED' },
  });
  expect(denied.status).toBe(403);
  expect(denied.body.message).toContain('catalog:write');
  expect(await packageRows()).toBe(before);
  expect((await stack.catalog.db.query("SELECT 1 FROM courses WHERE code = 'PUB-DENIED'")).rows).toEqual([]);
  // Reading a package needs tests:read on its tests only.
  expect(
    (
      await stack.http(
        'GET',
        `/v1/packages/${(await post(stack, '/v1/tests/publish', { testIds: [test.FR], format: 'xapi', courseName: 'R', targetServer: 'https://lrs.example.test/' })).id}`,
        { auth: frReader },
      )
    ).status,
  ).toBe(200);
});
