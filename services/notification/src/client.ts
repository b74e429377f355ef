import { grpcClient, type GrpcSecurity } from '@assistants/kit';
import { BellServiceClient } from '@assistants/proto/gen/notification/v1/bell';
import { CalendarServiceClient } from '@assistants/proto/gen/notification/v1/calendar';
import { MailServiceClient } from '@assistants/proto/gen/notification/v1/mails';
import { TemplateServiceClient } from '@assistants/proto/gen/notification/v1/templates';

/** Promise clients of every notification gRPC service at `address`. Calls carry the service
 * token and the current context's acting user (see the kit's context.ts). */
export function notificationClient(address: string, options: { security: GrpcSecurity; timeoutMs?: number }) {
  const settings = { ...options, serviceName: 'notification' };
  const clients = {
    templates: grpcClient(TemplateServiceClient, address, settings),
    mails: grpcClient(MailServiceClient, address, settings),
    bell: grpcClient(BellServiceClient, address, settings),
    calendar: grpcClient(CalendarServiceClient, address, settings),
  };
  return { ...clients, address, close: () => Object.values(clients).forEach((c) => c.close()) };
}

export type NotificationClient = ReturnType<typeof notificationClient>;
