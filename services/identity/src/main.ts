import { createLogger, loadConfig, runService } from '@assistants/kit';
import { IdentityConfigSchema } from './config';
import { startIdentity } from './start';

const logger = createLogger('identity');

void runService(logger, () => startIdentity(loadConfig(IdentityConfigSchema), logger));
