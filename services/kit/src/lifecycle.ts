import closeWithGrace from 'close-with-grace';
import { ConfigError } from './config';
import type { Logger } from './logger';

export interface Service {
  stop(): Promise<void>;
}

/** A service's main: builds and starts it, then stops it gracefully on SIGINT or SIGTERM
 * (or an uncaught error) within `graceMs`. A bad configuration ends the process with
 * exit code 2 and the message naming the variables at fault. */
export async function runProcess(logger: Logger, start: () => Promise<Service>, graceMs = 10_000): Promise<void> {
  let service: Service;
  try {
    service = await start();
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal(err.message);
      process.exit(2);
    }
    logger.fatal({ err }, 'start failed');
    process.exit(1);
  }
  closeWithGrace({ delay: graceMs }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'stopping after an uncaught error');
    else logger.info({ signal }, 'stopping');
    await service.stop();
    logger.info('stopped');
  });
}
