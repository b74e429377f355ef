// Demo instructor-led sessions (part of `npm run demo:load`): sessions of three classroom
// courses of the demo catalogue, imported as an administrator would do it, with an I8 file
// through the import routes. Trainers are the demo administrators (the bootstrap one and
// admin-fr); the sessions are for French, British and Spanish organisations.
import type { Call } from './demo-catalog';

/** Runs an import of `csv` of this kind to its end; answers its counts. */
export type ImportFile = (kind: string, csv: string) => Promise<Record<string, number>>;

const HEADER =
  'crsvname;lesson_sessions;session_start;session_extid;session_status;max_participants;immediate_confirmation;waiting_list;trainer_login;additional_trainers;room_extid;manager_login;org_extids';

/** One row per session: course, its lesson sessions, start, id, status, places, the rest. */
const sessions = (admin: string) => [
  `SAF-102;SAF-102-2|2026/02/09 09:00|2026/02/09 17:00;2026/02/09 09:00;SAF-102-PARIS-0226;O;10;Y;Y;admin-fr;;PARIS-ROOM-2;${admin};DEMO-FR-PARIS`,
  `SAF-102;SAF-102-2|2026/03/16 09:00|2026/03/16 17:00;2026/03/16 09:00;SAF-102-LYON-0326;N;10;N;Y;admin-fr;;LYON-ROOM-1;${admin};DEMO-FR-LYON`,
  `SAL-201;SAL-201-1|2026/02/23 09:00|2026/02/23 17:00$SAL-201-2|2026/02/24 09:00|2026/02/24 17:00;2026/02/23 09:00;SAL-201-LONDON-0226;O;12;Y;N;${admin};admin-fr;LONDON-HQ-5;${admin};DEMO-UK`,
  `SAL-201;SAL-201-1|2026/01/12 09:00|2026/01/12 17:00$SAL-201-2|2026/01/13 09:00|2026/01/13 17:00;2026/01/12 09:00;SAL-201-MADRID-0126;C;12;Y;N;${admin};;MADRID-2;${admin};DEMO-ES`,
  `ONB-102;ONB-102-1|2026/02/02 09:00|2026/02/02 17:00;2026/02/02 09:00;ONB-102-VIRTUAL-0226;O;20;Y;Y;${admin};admin-fr;TEAMS-ONBOARDING;${admin};DEMO-FR|DEMO-UK|DEMO-ES`,
  `ONB-102;;2026/03/02 09:00;ONB-102-VIRTUAL-0326;X;20;Y;Y;${admin};;TEAMS-ONBOARDING;${admin};DEMO-FR|DEMO-UK|DEMO-ES`,
];

async function courseId(call: Call, code: string): Promise<string | undefined> {
  const { items } = await call<{ items: { id: string; code: string }[] }>('POST', '/v1/courses/search', { filter: { code }, limit: 5 });
  return items.find((c) => c.code === code)?.id;
}

/** Whether the demo sessions are there (SAF-102 has sessions). */
export async function sessionsLoaded(call: Call): Promise<boolean> {
  const id = await courseId(call, 'SAF-102');
  return id !== undefined && (await call<{ items: unknown[] }>('GET', `/v1/courses/${id}/sessions`)).items.length > 0;
}

/** `admin`: the login of the bootstrap administrator (a trainer and the manager). */
export async function loadSessions(importFile: ImportFile, admin: string): Promise<void> {
  const counts = await importFile('sessions', [HEADER, ...sessions(admin)].join('\r\n') + '\r\n');
  if (counts.rejected > 0) throw new Error(`the demo sessions import rejected ${counts.rejected} rows: see its log`);
  console.log(`${counts.added} instructor-led sessions (I8) of SAF-102, SAL-201 and ONB-102`);
}
