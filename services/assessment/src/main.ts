import { runService } from '@assistants/kit';
import { assessmentService } from './service';

runService(assessmentService);
