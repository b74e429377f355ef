/*
 * The manifests of a course package (T4): imsmanifest.xml for SCORM 1.2 and SCORM 2004 4th
 * edition (IMS Content Packaging with ADL's namespaces and schema version), tincan.xml for
 * xAPI (the TinCan launch convention). One SCO (SCORM) or activity (xAPI) per test, all
 * played by the same index.html with `?test=<n>`.
 */

export type PackageFormatName = 'scorm12' | 'scorm2004' | 'xapi';

export interface CourseInfo {
  name: string;
  externalId: string;
  author: string;
  description: string;
  targetServer: string;
}

export interface ManifestTest {
  title: string;
  description: string;
  activityId: string;
  passingScorePercent: number | null;
}

/** The player's files, listed in the manifest's resource (every file of the zip but the
 * manifest itself). */
export const PLAYER_FILES = ['index.html', 'player.js', 'score.js', 'player.css', 'data.js'] as const;

const escapeXml = (value: string) =>
  value.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** An xs:ID (identifier attributes): letters, digits, "-", "_" and ".", not starting with a
 * digit. */
const xmlId = (prefix: string, value: string) => `${prefix}-${value.replace(/[^A-Za-z0-9_.-]/g, '_')}`;

/** The IRIs of the xAPI activities: the course and each of its tests. */
export const courseActivityId = (externalId: string) => `urn:assistants:course:${encodeURIComponent(externalId)}`;
export const testActivityId = (courseExternalId: string, testExternalId: string) =>
  `${courseActivityId(courseExternalId)}:test:${encodeURIComponent(testExternalId)}`;

function lines(parts: (string | false)[], indent: string): string {
  return parts
    .filter((p): p is string => p !== false)
    .map((p) => indent + p)
    .join('\n');
}

/** A SCORM <item>: test `i`, launched by the player with `?test=<i>`, holding `inside` after
 * its title. */
function scormItem(t: ManifestTest, i: number, inside: (string | false)[]): string {
  return lines(
    [
      `<item identifier="ITEM-${i + 1}" identifierref="RES-PLAYER" isvisible="true" parameters="?test=${i}">`,
      `  <title>${escapeXml(t.title)}</title>`,
      ...inside,
      `</item>`,
    ],
    '      ',
  );
}

/** The end of both SCORM manifests: the course's organization, holding `content` after its
 * title (the items; for SCORM 2004 its sequencing too), and the player as the one SCO
 * resource. SCORM 1.2 spells the SCO attribute adlcp:scormtype, SCORM 2004 adlcp:scormType. */
function scormOrganizationAndResources(course: CourseInfo, content: string[], scormType: 'scormtype' | 'scormType'): string {
  return `  <organizations default="ORG-1">
    <organization identifier="ORG-1">
      <title>${escapeXml(course.name)}</title>
${content.join('\n')}
    </organization>
  </organizations>
  <resources>
    <resource identifier="RES-PLAYER" type="webcontent" adlcp:${scormType}="sco" href="index.html">
${PLAYER_FILES.map((f) => `      <file href="${f}"/>`).join('\n')}
    </resource>
  </resources>`;
}

/** SCORM 1.2: IMS CP 1.1.2 root, adlcp_rootv1p2, inline IMS metadata 1.2.1 (LOM) with the
 * author, description and target server (technical/location). The mastery score is the pass
 * mark, for LMSs that decide passed/failed themselves. */
export function scorm12Manifest(course: CourseInfo, tests: ManifestTest[]): string {
  const lang = (text: string) => `<imsmd:langstring xml:lang="x-none">${escapeXml(text)}</imsmd:langstring>`;
  const items = tests.map((t, i) =>
    scormItem(t, i, [t.passingScorePercent !== null && `  <adlcp:masteryscore>${Math.round(t.passingScorePercent)}</adlcp:masteryscore>`]),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="${xmlId('MANIFEST', course.externalId)}" version="1.0"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"
  xmlns:imsmd="http://www.imsglobal.org/xsd/imsmd_rootv1p2p1"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd http://www.imsglobal.org/xsd/imsmd_rootv1p2p1 imsmd_rootv1p2p1.xsd http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd">
  <metadata>
    <schema>ADL SCORM</schema>
    <schemaversion>1.2</schemaversion>
    <imsmd:lom>
      <imsmd:general>
        <imsmd:identifier>${escapeXml(course.externalId)}</imsmd:identifier>
        <imsmd:title>${lang(course.name)}</imsmd:title>
        <imsmd:description>${lang(course.description)}</imsmd:description>
      </imsmd:general>
      <imsmd:lifecycle>
        <imsmd:contribute>
          <imsmd:role><imsmd:source>${lang('LOMv1.0')}</imsmd:source><imsmd:value>${lang('Author')}</imsmd:value></imsmd:role>
          <imsmd:centity><imsmd:vcard>${escapeXml(vcard(course.author))}</imsmd:vcard></imsmd:centity>
        </imsmd:contribute>
      </imsmd:lifecycle>
      <imsmd:technical>
        <imsmd:format>text/html</imsmd:format>
        <imsmd:location type="URI">${escapeXml(course.targetServer)}</imsmd:location>
      </imsmd:technical>
    </imsmd:lom>
  </metadata>
${scormOrganizationAndResources(course, items, 'scormtype')}
</manifest>
`;
}

/** SCORM 2004: the learner may choose any test of the course, or take them in turn. */
const ORGANIZATION_SEQUENCING = `      <imsss:sequencing>
        <imsss:controlMode choice="true" flow="true"/>
      </imsss:sequencing>`;

/** SCORM 2004 4th edition: IMS CP 1.1.4 (imscp_v1p1), ADL CP/sequencing/navigation v1p3,
 * IMS Simple Sequencing, inline IEEE LOM metadata. Each test's primary objective is satisfied
 * by measure at its pass mark (scaled score), as the SCO also reports. */
export function scorm2004Manifest(course: CourseInfo, tests: ManifestTest[]): string {
  const lang = (text: string) => `<string language="x-none">${escapeXml(text)}</string>`;
  const items = tests.map((t, i) =>
    scormItem(t, i, [
      t.passingScorePercent !== null && `  <imsss:sequencing>`,
      t.passingScorePercent !== null && `    <imsss:objectives>`,
      t.passingScorePercent !== null && `      <imsss:primaryObjective objectiveID="PASS-${i + 1}" satisfiedByMeasure="true">`,
      t.passingScorePercent !== null &&
        `        <imsss:minNormalizedMeasure>${(t.passingScorePercent / 100).toFixed(4)}</imsss:minNormalizedMeasure>`,
      t.passingScorePercent !== null && `      </imsss:primaryObjective>`,
      t.passingScorePercent !== null && `    </imsss:objectives>`,
      t.passingScorePercent !== null && `  </imsss:sequencing>`,
    ]),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="${xmlId('MANIFEST', course.externalId)}" version="1"
  xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
  xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3"
  xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3"
  xmlns:imsss="http://www.imsglobal.org/xsd/imsss"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.imsglobal.org/xsd/imscp_v1p1 imscp_v1p1.xsd http://www.adlnet.org/xsd/adlcp_v1p3 adlcp_v1p3.xsd http://www.adlnet.org/xsd/adlseq_v1p3 adlseq_v1p3.xsd http://www.adlnet.org/xsd/adlnav_v1p3 adlnav_v1p3.xsd http://www.imsglobal.org/xsd/imsss imsss_v1p0.xsd">
  <metadata>
    <schema>ADL SCORM</schema>
    <schemaversion>2004 4th Edition</schemaversion>
    <lom xmlns="http://ltsc.ieee.org/xsd/LOM">
      <general>
        <identifier><catalog>assistants</catalog><entry>${escapeXml(course.externalId)}</entry></identifier>
        <title>${lang(course.name)}</title>
        <description>${lang(course.description)}</description>
      </general>
      <lifeCycle>
        <contribute>
          <role><source>LOMv1.0</source><value>author</value></role>
          <entity>${escapeXml(vcard(course.author))}</entity>
        </contribute>
      </lifeCycle>
      <technical>
        <format>text/html</format>
        <location>${escapeXml(course.targetServer)}</location>
      </technical>
    </lom>
  </metadata>
${scormOrganizationAndResources(course, [...items, ORGANIZATION_SEQUENCING], 'scormType')}
</manifest>
`;
}

/** xAPI: the course activity (launches the menu of its tests) and one assessment activity per
 * test. The LRS endpoint (target server) is written as the launch URLs' default `endpoint`;
 * an LMS appends its own launch parameters (endpoint, auth, actor, registration), which the
 * player prefers (the last `endpoint` given wins). */
export function tincanXml(course: CourseInfo, tests: ManifestTest[]): string {
  const endpoint = `endpoint=${encodeURIComponent(course.targetServer)}`;
  const activity = (id: string, type: string, name: string, description: string, launch: string) =>
    lines(
      [
        `<activity id="${escapeXml(id)}" type="${type}">`,
        `  <name lang="und">${escapeXml(name)}</name>`,
        `  <description lang="und">${escapeXml(description)}</description>`,
        `  <launch lang="und">${escapeXml(launch)}</launch>`,
        `</activity>`,
      ],
      '    ',
    );
  return `<?xml version="1.0" encoding="UTF-8"?>
<tincan xmlns="http://projecttincan.com/tincan.xsd">
  <activities>
${activity(courseActivityId(course.externalId), 'http://adlnet.gov/expapi/activities/course', course.name, course.description, `index.html?${endpoint}`)}
${tests
  .map((t, i) =>
    activity(t.activityId, 'http://adlnet.gov/expapi/activities/assessment', t.title, t.description, `index.html?test=${i}&${endpoint}`),
  )
  .join('\n')}
  </activities>
</tincan>
`;
}

/** A minimal vCard naming the author (LOM's entity). */
const vcard = (name: string) => `BEGIN:VCARD\nVERSION:3.0\nFN:${name.replace(/[\r\n]/g, ' ')}\nEND:VCARD`;
