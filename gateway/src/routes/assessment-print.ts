import type { AssessmentClient } from '@assistants/assessment/client';
import { PrintLevel } from '@assistants/proto/gen/assessment/v1/print';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Id, OneOf, responses } from '../schemas/common';

/*
 * T3, the test assistant's printing: several tests as one printable PDF (the assessment
 * service lays it out; see services/assessment/README.md "T3 printing" for what each level
 * shows).
 */

const LEVELS = {
  questions: PrintLevel.PRINT_LEVEL_QUESTIONS,
  minimum: PrintLevel.PRINT_LEVEL_MINIMUM,
  maximum: PrintLevel.PRINT_LEVEL_MAXIMUM,
};

const PrintBody = Type.Object(
  {
    testIds: Type.Array(Id, { minItems: 1, maxItems: 100, description: 'printed in this order, each from a new page' }),
    level: OneOf(
      ['questions', 'minimum', 'maximum'] as const,
      'questions: questions and their choices only (hideTitles, hideMedia may thin it; with neither it equals minimum); minimum: titles, blocks, questions, media, choices; maximum: plus details, maxima and expected answers',
    ),
    hideTitles: Type.Optional(Type.Boolean({ description: "questions level only: leave out the questions' titles" })),
    hideMedia: Type.Optional(Type.Boolean({ description: "questions level only: leave out the questions' media" })),
  },
  { additionalProperties: false },
);

export const assessmentPrintRoutes: FastifyPluginAsyncTypebox<{ assessment: AssessmentClient }> = async (app, { assessment }) => {
  app.post(
    '/v1/tests/print',
    {
      schema: {
        tags: ['tests'],
        summary: 'T3: print tests — one PDF of 1 to 100 tests at a level of detail (404 naming any test outside the scope)',
        body: PrintBody,
        produces: ['application/pdf'],
        response: responses({ 200: Type.String({ description: 'the PDF document (application/pdf, as an attachment)' }) }),
      },
      config: { needs: 'tests:read' },
    },
    async (request, reply) => {
      const b = request.body;
      const { pdf, filename } = await assessment.print.printTests({
        testIds: b.testIds,
        level: LEVELS[b.level],
        hideTitles: b.hideTitles ?? false,
        hideMedia: b.hideMedia ?? false,
      });
      return (
        reply
          .type('application/pdf')
          .header('content-disposition', `attachment; filename="${filename}"`)
          // Bytes, not the string the schema documents: fastify sends a Buffer as it is.
          .send(pdf as unknown as string)
      );
    },
  );
};
