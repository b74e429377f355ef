import { runService } from '@assistants/kit';
import { importService } from './service';

runService(importService);
