import { runService } from '@assistants/kit';
import { statisticsService } from './service';

runService(statisticsService);
