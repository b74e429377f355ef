import type { AssessmentClient } from '@assistants/assessment/client';
import { PackageFormat, type PackageSummary as ProtoPackage } from '@assistants/proto/gen/assessment/v1/packages';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Id, IdParams, OneOf, responses } from '../schemas/common';

/*
 * The test assistant's T4, LMS publication: several tests packaged as one course (SCORM 1.2,
 * SCORM 2004 4th edition or xAPI), the course created in the catalogue, the zip downloadable.
 */

const tags = ['tests'];
const FORMATS = {
  scorm12: PackageFormat.PACKAGE_FORMAT_SCORM_12,
  scorm2004: PackageFormat.PACKAGE_FORMAT_SCORM_2004,
  xapi: PackageFormat.PACKAGE_FORMAT_XAPI,
};
const FORMAT_NAMES = Object.keys(FORMATS) as (keyof typeof FORMATS)[];

export const TestPackage = Type.Object(
  {
    id: Type.String(),
    format: OneOf(FORMAT_NAMES),
    courseName: Type.String(),
    externalId: Type.String({ description: 'the course’s unique id in the catalogue' }),
    author: Type.String(),
    description: Type.String(),
    targetServer: Type.String(),
    testIds: Type.Array(Type.String()),
    courseId: Type.String({ description: 'the course created in the catalogue' }),
    size: Type.Integer({ description: 'bytes of the zip' }),
    fileName: Type.String(),
    download: Type.String({ description: 'where to download the zip' }),
    createdBy: Type.String(),
    createdAt: Type.String(),
  },
  { $id: 'TestPackage' },
);

const PublishBody = Type.Object(
  {
    testIds: Type.Array(Id, { minItems: 1, maxItems: 50, description: 'in order: each test is one lesson (SCO / activity) of the course' }),
    format: OneOf(FORMAT_NAMES, 'scorm12, scorm2004 (4th edition) or xapi (TinCan)'),
    courseName: Type.String({ minLength: 1, maxLength: 255 }),
    externalId: Type.Optional(
      Type.String({ maxLength: 95, description: 'the course’s unique id in the catalogue; absent or "": generated' }),
    ),
    author: Type.Optional(Type.String({ maxLength: 255 })),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    targetServer: Type.Optional(
      Type.String({
        maxLength: 2000,
        description: 'xAPI: the LRS endpoint (required); SCORM: the server the course is meant for (metadata)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ASSESSMENT_PUBLISH_SCHEMAS = [TestPackage];

const toHttpPackage = (p: ProtoPackage) => ({
  ...p,
  format: FORMAT_NAMES.find((name) => FORMATS[name] === p.format)!,
  download: `/v1/packages/${p.id}`,
});

export const assessmentPublishRoutes: FastifyPluginAsyncTypebox<{ assessment: AssessmentClient }> = async (app, { assessment }) => {
  app.post(
    '/v1/tests/publish',
    {
      schema: {
        tags,
        summary: 'T4: package tests as one course (SCORM 1.2, SCORM 2004 or xAPI) and create the course in the catalogue',
        description:
          'Needs tests:read on every test (one outside your scope answers 404 naming testIds[i]) and catalog:write on the root for the course; an external id already used in the catalogue answers 409.',
        body: PublishBody,
        response: responses({ 201: Type.Ref(TestPackage) }),
      },
      config: { needs: 'tests:read' },
    },
    async (request, reply) => {
      const b = request.body;
      const { package: created } = await assessment.packages.publishTests({
        testIds: b.testIds,
        format: FORMATS[b.format],
        courseName: b.courseName,
        externalId: b.externalId ?? '',
        author: b.author ?? '',
        description: b.description ?? '',
        targetServer: b.targetServer ?? '',
      });
      return reply.code(201).header('location', `/v1/packages/${created!.id}`).send(toHttpPackage(created!));
    },
  );

  app.get(
    '/v1/packages/:id',
    {
      schema: {
        tags,
        summary: 'T4: download a course package (zip)',
        params: IdParams,
        produces: ['application/zip'],
        response: responses({ 200: Type.String({ description: 'the zip' }) }),
      },
      config: { needs: 'tests:read' },
    },
    async (request, reply) => {
      const { package: found, zip } = await assessment.packages.getPackage({ id: request.params.id });
      return (
        reply
          .type('application/zip')
          .header('content-disposition', `attachment; filename="${found!.fileName}"`)
          // Bytes, not the string the schema documents: fastify sends a Buffer as it is.
          .send(Buffer.from(zip) as unknown as string)
      );
    },
  );
};
