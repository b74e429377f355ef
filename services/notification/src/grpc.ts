import type * as grpc from '@grpc/grpc-js';
import { implement, type Logger, type SecretBox } from '@assistants/kit';
import { MailServiceService, type MailServiceServer } from '@assistants/proto/gen/notification/v1/mails';
import { TemplateServiceService, type TemplateServiceServer } from '@assistants/proto/gen/notification/v1/templates';
import type { Deps } from './deps';
import { listFailedMails, retryMails } from './mail-commands';
import { sendMails } from './send-mails';
import {
  createTemplate,
  deleteTemplate,
  getTemplate,
  listTemplates,
  previewTemplate,
  updateTemplate,
  validateTemplateUse,
} from './template-commands';
import { sendWelcomeMail } from './welcome';

/** The notification service's gRPC services: each handler hands the request to its command
 * (which checks the acting user's rights through identity) and wraps the answer. */
export function notificationGrpcServices(
  deps: Deps,
  box: SecretBox,
  logger: Logger,
): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][] {
  const templates = implement<TemplateServiceServer>(logger, {
    createTemplate: async (req, call) => ({ template: await createTemplate(deps, call.actorId, req.template) }),
    updateTemplate: async (req, call) => ({ template: await updateTemplate(deps, call.actorId, req.id, req.template) }),
    getTemplate: async (req, call) => ({ template: await getTemplate(deps, call.actorId, req.id) }),
    listTemplates: (req, call) => listTemplates(deps, call.actorId, req),
    deleteTemplate: async (req, call) => {
      await deleteTemplate(deps, call.actorId, req.id);
      return {};
    },
    previewTemplate: (req, call) => previewTemplate(deps, call.actorId, req),
    validateTemplateUse: async (req) => ({ template: await validateTemplateUse(deps, req) }),
  });
  const mails = implement<MailServiceServer>(logger, {
    sendMails: async (req) => ({ result: await sendMails(deps, req) }),
    sendWelcomeMail: (req) => sendWelcomeMail(deps, box, req),
    listFailedMails: (req, call) => listFailedMails(deps, call.actorId, req),
    retryMails: async (req, call) => ({ retried: await retryMails(deps, call.actorId, req.ids) }),
  });
  return [
    [TemplateServiceService, templates],
    [MailServiceService, mails],
  ];
}
