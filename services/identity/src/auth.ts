import { createHash, randomBytes } from 'node:crypto';
import { checkId, type Database, type Emit, invalidArgument, type Queryable, resourceExhausted, unauthenticated } from '@assistants/kit';
import type { AuthenticateRequest, Principal } from '@assistants/proto/gen/identity/v1/auth';
import { loadActingUser } from './caller';
import { events } from './events';
import { verifyPassword } from './passwords';
import { grantsOf } from './roles.repo';
import { loadUsers, mayLogIn, type UserRow } from './users.repo';
import { PASSWORD_MAX } from './validation';

/** The one answer to every failed authentication, whatever the reason. */
const REFUSED = 'invalid credentials';

export interface LoginLimits {
  /** Failed logins allowed per login within the window; past it, the login is refused
   * without its password being checked until the window ends. */
  maxFailures: number;
  windowMinutes: number;
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Refuses a login whose failures reached the limit within the window. Counted for logins
 * that do not exist too, so that the answer says nothing about which exist. */
async function checkNotThrottled(q: Queryable, loginKey: string, limits: LoginLimits): Promise<void> {
  const { rows } = await q.query<{ retry_at: Date }>(
    `SELECT window_started_at + make_interval(mins => $3) AS retry_at FROM login_failures
     WHERE login_key = $1 AND failures >= $2 AND window_started_at > now() - make_interval(mins => $3)`,
    [loginKey, limits.maxFailures, limits.windowMinutes],
  );
  if (rows.length > 0) {
    throw resourceExhausted(`too many failed logins for this login: try again after ${rows[0].retry_at.toISOString()}`);
  }
}

async function recordFailure(q: Queryable, loginKey: string, limits: LoginLimits): Promise<void> {
  await q.query(
    `INSERT INTO login_failures (login_key, failures, window_started_at) VALUES ($1, 1, now())
     ON CONFLICT (login_key) DO UPDATE SET
       failures = CASE WHEN login_failures.window_started_at > now() - make_interval(mins => $2) THEN login_failures.failures + 1 ELSE 1 END,
       window_started_at = CASE WHEN login_failures.window_started_at > now() - make_interval(mins => $2)
                                THEN login_failures.window_started_at ELSE now() END`,
    [loginKey, limits.windowMinutes],
  );
}

/** The user with this login and password, allowed to log in now; UNAUTHENTICATED
 * otherwise, and RESOURCE_EXHAUSTED once the login failed too often. */
async function checkLoginPassword(db: Database, login: string, password: string, limits: LoginLimits): Promise<UserRow> {
  if (login.length > 100 || password.length > PASSWORD_MAX) throw unauthenticated(REFUSED);
  const loginKey = login.toLowerCase();
  await checkNotThrottled(db, loginKey, limits);
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE lower(login) = $1', [loginKey]);
  const user = rows[0] as UserRow | undefined;
  const matches = await verifyPassword(user?.password_hash ?? null, password);
  if (!user || !matches || !mayLogIn(user)) {
    await recordFailure(db, loginKey, limits);
    throw unauthenticated(REFUSED);
  }
  await db.query('DELETE FROM login_failures WHERE login_key = $1', [loginKey]);
  return user;
}

async function principalOf(q: Queryable, user: UserRow): Promise<Principal> {
  return { userId: user.id, login: user.login, grants: await grantsOf(q, user.id), mustChangePassword: user.must_change_password };
}

export async function createSession(db: Database, login: string, password: string, ttlMinutes: number, limits: LoginLimits) {
  const user = await checkLoginPassword(db, login, password, limits);
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + ttlMinutes * 60_000);
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM sessions WHERE expires_at < now()');
    await tx.query('INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [tokenHash(token), user.id, expiresAt]);
    await tx.query('UPDATE users SET last_login_at = now() WHERE id = $1', [user.id]);
  });
  return { token, expiresAt: expiresAt.toISOString(), principal: await principalOf(db, user) };
}

export async function authenticate(db: Database, request: AuthenticateRequest, limits: LoginLimits): Promise<Principal> {
  if (request.token !== undefined) {
    const { rows } = await db.query<UserRow>(
      'SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > now()',
      [tokenHash(request.token)],
    );
    if (rows.length === 0 || !mayLogIn(rows[0])) throw unauthenticated(REFUSED);
    return principalOf(db, rows[0]);
  }
  if (request.loginPassword) {
    return principalOf(db, await checkLoginPassword(db, request.loginPassword.login, request.loginPassword.password, limits));
  }
  throw invalidArgument('credential', 'give a token or a login and password');
}

export async function deleteSession(q: Queryable, token: string): Promise<void> {
  await q.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash(token)]);
}

/** A user's principal, for other services deciding on their own data. */
export async function getPrincipal(q: Queryable, userId: string): Promise<Principal> {
  const user = await loadActingUser(q, checkId('userId', userId));
  if (!user || !mayLogIn(user)) throw unauthenticated('the user is unknown, disabled or outside its activation dates');
  // (A grant's path stays out of the answer: the message has no field for it.)
  return { userId: user.id, login: user.login, grants: user.grants, mustChangePassword: user.must_change_password };
}

/** Checks the acting user's current password before it changes it; wrong guesses count
 * like failed logins. */
export async function checkOwnPassword(db: Database, userId: string, currentPassword: string, limits: LoginLimits): Promise<void> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE id = $1', [userId]);
  const loginKey = rows[0].login.toLowerCase();
  await checkNotThrottled(db, loginKey, limits);
  if (!(await verifyPassword(rows[0].password_hash, currentPassword))) {
    await recordFailure(db, loginKey, limits);
    throw invalidArgument('currentPassword', 'the current password is not right');
  }
}

/** The acting user's new password (checked with checkOwnPassword first). Every session of
 * the user ends: it logs in again with the new password. */
export async function setOwnPassword(tx: Queryable, emit: Emit, userId: string, newPasswordHash: string): Promise<void> {
  const { rows } = await tx.query<UserRow>('SELECT must_change_password FROM users WHERE id = $1 FOR UPDATE', [userId]);
  await tx.query('UPDATE users SET password_hash = $2, must_change_password = false, updated_at = now() WHERE id = $1', [
    userId,
    newPasswordHash,
  ]);
  await tx.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
  const [updated] = await loadUsers(tx, [userId]);
  events.userUpdated(emit, {
    user: updated,
    changedFields: ['password', ...(rows[0].must_change_password ? ['must_change_password'] : [])],
  });
}
