import { basic, startStack, type TestStack } from '@assistants/testing';

/**
 * What the test assistant's end-to-end tests share (assessment*.test.ts): one stack per file
 * with the tree ROOT > EU > FR, ROOT > US, set up through the gateway's HTTP API as the
 * stack's administrator; administrators whose role covers one organisation's sub-tree; a user
 * of FR without any role (403 on every route).
 */

export interface AssessmentStack {
  stack: TestStack;
  org: { ROOT: string; EU: string; FR: string; US: string };
  /** Basic auth of `nobody`, a user of FR without any role. */
  nobody: string;
}

/** A POST that must succeed (as the stack's administrator unless `auth` says otherwise): its body. */
export async function post(stack: TestStack, path: string, body: unknown, auth?: string) {
  const result = await stack.http('POST', path, { body, auth });
  if (result.status >= 300) throw new Error(`${path}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/** Starts the stack (the file stops it) and makes the organisations and `nobody`. */
export async function startAssessmentStack(): Promise<AssessmentStack> {
  const stack = await startStack();
  const EU = (await post(stack, '/v1/organisations', { extId: 'EU', label: 'Europe' })).id;
  const FR = (await post(stack, '/v1/organisations', { extId: 'FR', label: 'France', parentId: EU })).id;
  const US = (await post(stack, '/v1/organisations', { extId: 'US', label: 'United States' })).id;
  const ROOT = (await stack.http('GET', '/v1/organisations')).body.items[0].id;
  await post(stack, '/v1/users', { login: 'nobody', lastName: 'N', firstName: 'N', organisationId: FR, password: 'nobody password' });
  return { stack, org: { ROOT, EU, FR, US }, nobody: basic('nobody', 'nobody password') };
}

/** A user of `organisationId` holding a role with `permissions` on its sub-tree: an
 * administrator whose scope is that sub-tree. Its id, and its basic auth (the password is
 * "<login> password"). */
export async function scopedAdministrator(
  stack: TestStack,
  login: string,
  organisationId: string,
  permissions: string[],
): Promise<{ id: string; auth: string }> {
  const password = `${login} password`;
  const { id } = await post(stack, '/v1/users', { login, lastName: login, firstName: 'Admin', organisationId, password });
  const role = await post(stack, '/v1/roles', { name: `Role of ${login}`, permissions });
  await post(stack, `/v1/users/${id}/roles`, { roleIds: [role.id], organisationId });
  return { id, auth: basic(login, password) };
}

/** Creates a test (the body of POST /v1/tests): its id. */
export async function createTest(stack: TestStack, body: object): Promise<string> {
  return (await post(stack, '/v1/tests', body)).id;
}
