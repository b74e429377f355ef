import { Type } from '@sinclair/typebox';
import { ConfigError, loadConfig } from '../src/config';

const schema = Type.Object({
  DEMO_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 50051 }),
  DEMO_DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DEMO_VERBOSE: Type.Boolean({ default: false }),
  DEMO_NATS_URL: Type.String(),
});

describe('loadConfig', () => {
  it('applies defaults and converts text to numbers and booleans', () => {
    const config = loadConfig(schema, { DEMO_NATS_URL: 'nats://x:4222', DEMO_VERBOSE: 'true' });
    expect(config).toEqual({ DEMO_PORT: 50051, DEMO_VERBOSE: true, DEMO_NATS_URL: 'nats://x:4222' });
    expect(loadConfig(schema, { DEMO_NATS_URL: 'n', DEMO_PORT: '7000' }).DEMO_PORT).toBe(7000);
  });

  it('names every variable at fault, with the value given', () => {
    const attempt = () => loadConfig(schema, { DEMO_PORT: 'seventy' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/DEMO_PORT: .*\(given: "seventy"\)/);
    expect(attempt).toThrow(/DEMO_NATS_URL: .*\(not set\)/);
  });

  it('never repeats the value of a variable that may hold a secret', () => {
    let message = '';
    try {
      loadConfig(schema, { DEMO_NATS_URL: 'n', DEMO_DATABASE_URL: 'mysql://user:s3cret@host/db' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/DEMO_DATABASE_URL/);
    expect(message).not.toMatch(/s3cret/);
  });
});
