import { createHash, randomBytes } from 'node:crypto';
import { invalidArgument, unauthenticated, type Database, type Queryable } from '@assistants/kit';
import type { AuthenticateRequest, Principal } from '@assistants/proto/gen/identity/v1/auth';
import { verifyPassword } from './passwords';
import { grantsOf } from './roles';
import type { UserRow } from './users';
import { PASSWORD_MAX } from './validation';

/** The one answer to every failed authentication, whatever the reason. */
const REFUSED = 'invalid credentials';

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** Enabled, and within its activation and expiration dates. */
function mayLogIn(user: UserRow): boolean {
  const day = today();
  return !user.disabled && (!user.activation_date || user.activation_date <= day) && (!user.expiration_date || user.expiration_date >= day);
}

async function checkLoginPassword(q: Queryable, login: string, password: string): Promise<UserRow> {
  if (login.length > 100 || password.length > PASSWORD_MAX) throw unauthenticated(REFUSED);
  const { rows } = await q.query<UserRow>('SELECT * FROM users WHERE lower(login) = lower($1)', [login]);
  const user = rows[0] as UserRow | undefined;
  const matches = await verifyPassword(user?.password_hash ?? null, password);
  if (!user || !matches || !mayLogIn(user)) throw unauthenticated(REFUSED);
  return user;
}

async function principalOf(q: Queryable, user: UserRow): Promise<Principal> {
  return { userId: user.id, login: user.login, grants: await grantsOf(q, user.id) };
}

export async function createSession(db: Database, login: string, password: string, ttlMinutes: number) {
  const user = await checkLoginPassword(db, login, password);
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + ttlMinutes * 60_000);
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM sessions WHERE expires_at < now()');
    await tx.query('INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [tokenHash(token), user.id, expiresAt]);
    await tx.query('UPDATE users SET last_login_at = now() WHERE id = $1', [user.id]);
  });
  return { token, expiresAt: expiresAt.toISOString(), principal: await principalOf(db, user) };
}

export async function authenticate(q: Queryable, request: AuthenticateRequest): Promise<Principal> {
  if (request.token !== undefined) {
    const { rows } = await q.query<UserRow>(
      'SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > now()',
      [tokenHash(request.token)],
    );
    if (rows.length === 0 || !mayLogIn(rows[0])) throw unauthenticated(REFUSED);
    return principalOf(q, rows[0]);
  }
  if (request.loginPassword) {
    return principalOf(q, await checkLoginPassword(q, request.loginPassword.login, request.loginPassword.password));
  }
  throw invalidArgument('credential', 'give a token or a login and password');
}

export async function deleteSession(q: Queryable, token: string): Promise<void> {
  await q.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash(token)]);
}
