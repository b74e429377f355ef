import { runService } from '@assistants/kit';
import { assignmentService } from './service';

runService(assignmentService);
