import { Writable } from 'node:stream';
import { createLogger, withCorrelationId } from '../src';

function capture(): { lines: () => Record<string, unknown>[]; text: () => string; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
  };
}

describe('logger', () => {
  it('never writes a password, token or authorization header, and carries the correlation id', () => {
    const out = capture();
    const sink = createLogger('demo', 'info', out.stream);
    withCorrelationId('corr-1', () => {
      sink.info(
        {
          password: 'hunter22',
          user: { password: 'hunter22', login: 'jdoe' },
          token: 'tok',
          req: { headers: { authorization: 'Basic abc' } },
        },
        'hello',
      );
    });
    const [line] = out.lines();
    const text = JSON.stringify(line);
    expect(text).not.toMatch(/hunter22|tok"|Basic abc/);
    expect(line).toMatchObject({ service: 'demo', correlationId: 'corr-1', msg: 'hello', user: { login: 'jdoe', password: '[redacted]' } });
  });

  it('redacts secrets at any depth, in arrays too, whatever the spelling of the key', () => {
    const out = capture();
    const sink = createLogger('demo', 'info', out.stream);
    const row = { id: 'u1', login: 'jdoe', password_hash: '$argon2id$v=19$secret-hash' };
    sink.info(
      {
        rows: [row, { ...row, id: 'u2' }],
        deep: { a: { b: { c: { d: { e: { passwordHash: 'deep-hash', currentPassword: 'deep-pw', keep: 'visible' } } } } } },
        call: { metadata: { 'x-service-token': 'svc-secret', serviceToken: 'svc-secret-2' } },
        err: Object.assign(new Error('boom'), { code: 'E1' }),
      },
      'rows loaded',
    );
    const text = out.text();
    expect(text).not.toMatch(/argon2id|secret-hash|deep-hash|deep-pw|svc-secret/);
    const [line] = out.lines() as [any];
    expect(line.rows).toEqual([
      { id: 'u1', login: 'jdoe', password_hash: '[redacted]' },
      { id: 'u2', login: 'jdoe', password_hash: '[redacted]' },
    ]);
    expect(line.deep.a.b.c.d.e).toEqual({ passwordHash: '[redacted]', currentPassword: '[redacted]', keep: 'visible' });
    expect(line.err).toMatchObject({ message: 'boom', code: 'E1', type: 'Error' });
  });
});
