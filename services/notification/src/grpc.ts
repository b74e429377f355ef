import type * as grpc from '@grpc/grpc-js';
import { failedPrecondition, implement, type Logger } from '@assistants/kit';
import { MailServiceService, type MailServiceServer } from '@assistants/proto/gen/notification/v1/mails';
import { TemplateServiceService, type TemplateServiceServer } from '@assistants/proto/gen/notification/v1/templates';
import type { Deps } from './deps';

const later = async (): Promise<never> => {
  throw failedPrecondition('not implemented yet');
};

/** The notification service's gRPC services: each handler hands the request to its command
 * and wraps the answer. */
export function notificationGrpcServices(_deps: Deps, logger: Logger): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][] {
  const templates = implement<TemplateServiceServer>(logger, {
    createTemplate: later,
    updateTemplate: later,
    getTemplate: later,
    listTemplates: later,
    deleteTemplate: later,
    previewTemplate: later,
    validateTemplateUse: later,
  });
  const mails = implement<MailServiceServer>(logger, {
    sendMails: later,
    sendWelcomeMail: later,
    listFailedMails: later,
    retryMails: later,
  });
  return [
    [TemplateServiceService, templates],
    [MailServiceService, mails],
  ];
}
