import { runService } from '@assistants/kit';
import { notificationService } from './service';

runService(notificationService);
