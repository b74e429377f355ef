import { checkAmount, checkDate, checkId, checkIds, checkOneOf, checkText } from '@assistants/kit';
import { checkEmail, checkLogin, checkPassword, LANGUAGES, TITLES, TWO_FACTOR_MODES } from '../src/validation';
import { refusal } from './helpers';

const ID = '3F0C8A52-8A8E-4A57-9C38-2A4F1B0A0B0B';

describe('ids', () => {
  it('accepts UUIDs in any case and gives them back in lower case', () => {
    expect(checkId('id', ID)).toBe(ID.toLowerCase());
  });

  it('refuses anything else, naming the field and quoting the value', () => {
    expect(refusal(() => checkId('organisationId', 'north'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'organisationId',
      message: 'organisationId must be an id (UUID), got "north"',
    });
    expect(refusal(() => checkId('id', ''))).toMatchObject({ field: 'id' });
    expect(checkId('managerId', '', true)).toBe('');
  });

  it('checks lists of ids one by one, naming the position, without duplicates', () => {
    expect(checkIds('userIds', [ID, ID.toLowerCase()])).toEqual([ID.toLowerCase()]);
    expect(checkIds('userIds', [])).toEqual([]);
    expect(refusal(() => checkIds('userIds', [ID, 'x']))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'userIds[1]' });
  });
});

describe('text', () => {
  it('trims, and enforces required and maximum length', () => {
    expect(checkText('label', '  Lille  ')).toBe('Lille');
    expect(checkText('label', '')).toBe('');
    expect(refusal(() => checkText('label', '   ', { required: true }))).toMatchObject({ field: 'label', message: 'label is required' });
    expect(checkText('label', 'x'.repeat(255))).toHaveLength(255);
    expect(refusal(() => checkText('label', 'x'.repeat(256)))).toMatchObject({
      field: 'label',
      message: 'label is longer than 255 characters',
    });
    expect(checkText('zip', '12345', { max: 5 })).toBe('12345');
    expect(refusal(() => checkText('zip', '123456', { max: 5 }))).toMatchObject({ field: 'zip' });
  });

  it('refuses control characters, but accepts tabs and line breaks', () => {
    expect(refusal(() => checkText('description', 'a\u0000b'))).toMatchObject({
      field: 'description',
      message: 'description contains control characters',
    });
    expect(refusal(() => checkText('description', 'a\u001bb'))).toMatchObject({ field: 'description' });
    expect(checkText('description', 'line 1\nline 2\r\n\tend')).toBe('line 1\nline 2\r\n\tend');
  });
});

describe('vocabularies', () => {
  it('accepts the documented values', () => {
    for (const title of ['', 'M.', 'Mme', 'Mlle', 'Dr.', 'Pr.']) expect(checkOneOf('title', title, TITLES)).toBe(title);
    for (const language of ['', 'en-EN', 'fr-FR', 'es-ES']) expect(checkOneOf('language', language, LANGUAGES)).toBe(language);
    for (const mode of ['default', 'never', 'first_login_of_day', 'always'])
      expect(checkOneOf('twoFactor', mode, TWO_FACTOR_MODES)).toBe(mode);
  });

  it('refuses anything else, listing the accepted values', () => {
    const err = refusal(() => checkOneOf('title', 'Mr', TITLES));
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'title' });
    expect(err.message).toBe('title must be one of "" (none), "M.", "Mme", "Mlle", "Dr.", "Pr.", got "Mr"');
    expect(refusal(() => checkOneOf('twoFactor', '', TWO_FACTOR_MODES))).toMatchObject({ field: 'twoFactor' });
    // Case matters: the values are codes.
    expect(refusal(() => checkOneOf('language', 'FR-fr', LANGUAGES))).toMatchObject({ field: 'language' });
  });
});

describe('dates', () => {
  it('accepts calendar dates YYYY-MM-DD, and "" as none', () => {
    expect(checkDate('birthDate', '1980-05-17')).toBe('1980-05-17');
    expect(checkDate('birthDate', '2024-02-29')).toBe('2024-02-29');
    expect(checkDate('birthDate', '2000-02-29')).toBe('2000-02-29');
    expect(checkDate('birthDate', '')).toBeNull();
  });

  it('refuses other formats and days that do not exist', () => {
    for (const bad of [
      '2023-02-29',
      '1900-02-29',
      '2024-04-31',
      '2024-13-01',
      '2024-00-10',
      '2024-01-00',
      '17/05/1980',
      '1980/05/17',
      '1980-5-17',
      '1980-05-17T00:00:00Z',
      ' 1980-05-17',
    ]) {
      const err = refusal(() => checkDate('expirationDate', bad));
      expect({ bad, field: err.field, message: err.message }).toEqual({
        bad,
        field: 'expirationDate',
        message: `expirationDate must be a date YYYY-MM-DD, got ${JSON.stringify(bad)}`,
      });
    }
  });
});

describe('amounts', () => {
  it('accepts non-negative decimals with at most 2 decimals, written as the database gives them back; "" is none', () => {
    for (const [given, normal] of [
      ['0', '0.00'],
      ['000', '0.00'],
      ['42', '42.00'],
      ['42.5', '42.50'],
      ['42.50', '42.50'],
      ['0042.05', '42.05'],
      ['123456789012.99', '123456789012.99'],
    ]) {
      expect(checkAmount('hourlyCost', given)).toBe(normal);
    }
    expect(checkAmount('hourlyCost', '')).toBeNull();
  });

  it('refuses the rest', () => {
    for (const bad of ['-1', '1.234', '1,5', '1e3', '.5', '5.', ' 5', '1234567890123', 'NaN']) {
      expect({ bad, field: refusal(() => checkAmount('budget', bad)).field }).toEqual({ bad, field: 'budget' });
    }
  });
});

describe('emails, logins and passwords', () => {
  it('checks emails, "" meaning none', () => {
    expect(checkEmail('email', ' jane.doe+lms@acme.co.uk ')).toBe('jane.doe+lms@acme.co.uk');
    expect(checkEmail('email', '')).toBe('');
    for (const bad of ['jane', 'jane@acme', '@acme.fr', 'jane@', 'jane doe@acme.fr', 'jane@acme .fr']) {
      const err = refusal(() => checkEmail('email', bad));
      expect({ bad, field: err.field }).toEqual({ bad, field: 'email' });
      expect(err.message).toContain('email is not an email address');
    }
    expect(refusal(() => checkEmail('email', `${'x'.repeat(250)}@a.fr`))).toMatchObject({ field: 'email' });
  });

  it('checks logins: required, without spaces, at most 100 characters', () => {
    expect(checkLogin('login', '  jdupont ')).toBe('jdupont');
    expect(checkLogin('login', 'jean.dupont@acme.fr')).toBe('jean.dupont@acme.fr');
    expect(refusal(() => checkLogin('login', ''))).toMatchObject({ field: 'login', message: 'login is required' });
    expect(refusal(() => checkLogin('login', 'jean dupont'))).toMatchObject({ field: 'login', message: 'login must not contain spaces' });
    expect(refusal(() => checkLogin('user_login', 'a\tb'))).toMatchObject({ field: 'user_login' });
    expect(refusal(() => checkLogin('login', 'x'.repeat(101)))).toMatchObject({ field: 'login' });
  });

  it('checks password length only, and keeps the password as given', () => {
    expect(checkPassword('password', '12345678')).toBe('12345678');
    expect(checkPassword('password', ' spaces  kept ')).toBe(' spaces  kept ');
    expect(checkPassword('password', 'x'.repeat(256))).toHaveLength(256);
    expect(refusal(() => checkPassword('password', '1234567'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'password',
      message: 'password must have at least 8 characters',
    });
    expect(refusal(() => checkPassword('newPassword', 'x'.repeat(257)))).toMatchObject({ field: 'newPassword' });
  });
});
