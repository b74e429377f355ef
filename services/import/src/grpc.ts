import type * as grpc from '@grpc/grpc-js';
import { implement, invalidArgument, type ServiceContext } from '@assistants/kit';
import { ImportFileKind, ImportServiceService, type ImportServiceServer } from '@assistants/proto/gen/import/v1/imports';
import { requireImporter } from './caller';
import type { ImportConfig } from './config';
import { checkNotifyTemplate } from './kinds/notify';
import { appendUpload, completeUpload, createUpload, getJob, readJobFile, startImport } from './jobs';
import type { Upstreams } from './upstreams';

/** The import service's gRPC service (see proto/import/v1/imports.proto). */
export function importGrpcServices(context: Omit<ServiceContext<ImportConfig, Upstreams>, 'parts'>, poke: () => void) {
  const { db, config, upstreams, logger } = context;
  const actor = (call: { actorId: string }) => requireImporter(upstreams.identity, call.actorId);
  const read = { maxBytes: config.IMPORT_MAX_FILE_BYTES, maxRecordChars: config.IMPORT_MAX_RECORD_CHARS };
  const service = implement<ImportServiceServer>(logger, {
    createUpload: async (req, call) => ({ uploadId: await createUpload(db, await actor(call), req.kind, req.fileName) }),
    appendUpload: async (req, call) => {
      const actorId = await actor(call);
      return {
        size: await db.transaction((tx) => appendUpload(tx, actorId, req.uploadId, req.part, Buffer.from(req.data), read.maxBytes)),
      };
    },
    completeUpload: async (req, call) => completeUpload(db, await actor(call), req.uploadId, req.encoding, read),
    startImport: async (req, call) => {
      const job = await startImport(db, await actor(call), req.uploadId, req.dryRun, req.options, (kind, options) =>
        checkNotifyTemplate(upstreams, kind, options),
      );
      poke();
      return { job };
    },
    getImport: async (req, call) => ({ job: await getJob(db, await actor(call), req.id) }),
    readImportFile: async (req, call) => {
      const file =
        req.file === ImportFileKind.IMPORT_FILE_KIND_LOG
          ? 'log'
          : req.file === ImportFileKind.IMPORT_FILE_KIND_REJECTS
            ? 'rejects'
            : undefined;
      if (!file) throw invalidArgument('file', 'file must be LOG or REJECTS');
      return readJobFile(db, await actor(call), req.id, file, req.from);
    },
  });
  return [[ImportServiceService, service]] as [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][];
}
