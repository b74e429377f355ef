import { checkText, invalidArgument } from '@assistants/kit';

// The generic checks (ids, text, one of, dates, amounts) are the kit's: services/kit/src/validation.ts.

export const TITLES = ['', 'M.', 'Mme', 'Mlle', 'Dr.', 'Pr.'] as const;
export const LANGUAGES = ['', 'en-EN', 'fr-FR', 'es-ES'] as const;
export const TWO_FACTOR_MODES = ['default', 'never', 'first_login_of_day', 'always'] as const;
export const LIST_TYPES = ['static', 'dynamic'] as const;
export const MATCH_MODES = ['', 'all', 'any'] as const;

export function checkEmail(field: string, value: string): string {
  const email = checkText(field, value, { max: 254 });
  if (email !== '' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw invalidArgument(field, `${field} is not an email address: ${JSON.stringify(email)}`);
  }
  return email;
}

export function checkLogin(field: string, value: string): string {
  const login = checkText(field, value, { required: true, max: 100 });
  if (/\s/.test(login)) throw invalidArgument(field, `${field} must not contain spaces`);
  return login;
}

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

export function checkPassword(field: string, value: string): string {
  if (value.length < PASSWORD_MIN) throw invalidArgument(field, `${field} must have at least ${PASSWORD_MIN} characters`);
  if (value.length > PASSWORD_MAX) throw invalidArgument(field, `${field} must have at most ${PASSWORD_MAX} characters`);
  return value;
}
