import type { AssessmentClient } from '@assistants/assessment/client';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { IdParams, responses } from '../schemas/common';

/** T5 (Mobiteach export): one test as an IMS QTI 2.1 content package (zip), built by the
 * assessment service, which decides the caller's right to read the test. */
export const assessmentQtiRoutes: FastifyPluginAsyncTypebox<{ assessment: AssessmentClient }> = async (app, { assessment }) => {
  app.get(
    '/v1/tests/:id/qti',
    {
      schema: {
        tags: ['tests'],
        summary: 'T5 (Mobiteach export): the test as an IMS QTI 2.1 package to download',
        description:
          'A zip: imsmanifest.xml, assessmentTest.xml (a section per block) and items/<identifier>.xml (an assessmentItem per question). ' +
          'See services/assessment/README.md for how each question type is written.',
        params: IdParams,
        produces: ['application/zip'],
        response: responses({ 200: Type.String({ format: 'binary', description: 'the zip' }) }),
      },
      config: { needs: 'tests:read' },
    },
    async (request, reply) => {
      const { zip, fileName } = await assessment.qti.exportTestQti({ id: request.params.id });
      return (
        reply
          .type('application/zip')
          .header('content-disposition', `attachment; filename="${fileName}"`)
          // Bytes, not the string the schema documents: fastify sends a Buffer as it is.
          .send(zip as unknown as string)
      );
    },
  );
};
