import { runService } from '@assistants/kit';
import { catalogService } from './service';

runService(catalogService);
