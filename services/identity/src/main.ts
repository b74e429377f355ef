import { runService } from '@assistants/kit';
import { identityService } from './service';

runService(identityService);
