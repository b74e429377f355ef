import { Writable } from 'node:stream';
import { createLogger, withCorrelationId } from '../src';

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
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
});
