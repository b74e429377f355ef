import { createLogger, runProcess } from '@assistants/kit';
import { startGateway } from './gateway';

const logger = createLogger('gateway');

void runProcess(logger, () => startGateway({ logger }));
