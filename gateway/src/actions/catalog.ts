import { Type, type TSchema } from '@sinclair/typebox';
import { Id, OneOf } from '../schemas/common';
import { CMI_MODES, COURSE_TYPES, CUSTOM_FIELD_NAMES, PROTOCOLS } from '../schemas/catalog';
import { defineAction, triState, type ActionDefinition } from './action';

/** The catalogue actions of the course assistant (C1-C4) and the curriculum assistant
 * (P1-P3). Each batch goes to the catalog service, which checks the parameters (a 400 naming
 * the field, e.g. C3's sequentialLessons), applies the batch once per idempotency key and
 * answers one result per course or curriculum. Every field may stay "unchanged": tri-states
 * say so, other fields by being absent. */

const TriState = (description: string) =>
  Type.Optional(OneOf(['unchanged', 'yes', 'no'] as const, `${description} ("unchanged", the default, leaves it as it is)`));
const OrUnchanged = <T extends string>(values: readonly T[], description: string) =>
  Type.Optional(OneOf(['unchanged', ...values] as const, `${description} ("unchanged", the default, leaves it as it is)`));
const Text = (maxLength: number, description: string) =>
  Type.Optional(Type.String({ maxLength, description: `${description}; absent leaves it as it is, "" clears it` }));
const Pixels = (description: string) =>
  Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: `${description} in pixels; absent leaves it as it is` }));
const Params = <P extends Record<string, TSchema>>(properties: P) => Type.Object(properties, { additionalProperties: false });

const customFields = Params(
  Object.fromEntries(CUSTOM_FIELD_NAMES.map((k) => [k, Text(255, `custom field ${k.slice(6)}`)])) as Record<
    (typeof CUSTOM_FIELD_NAMES)[number],
    ReturnType<typeof Text>
  >,
);
const audiences = Params({
  audienceIds: Type.Array(Id, { minItems: 1, maxItems: 500, description: 'identity audiences, added to those already there' }),
});

/** "unchanged" as absent, for the service. */
const unlessUnchanged = <T extends string>(value: T | 'unchanged' | undefined): T | undefined =>
  value === 'unchanged' ? undefined : (value as T | undefined);

export const catalogActions: ActionDefinition[] = [
  defineAction({
    id: 'C1',
    assistant: 'courses',
    title: 'Modify general information',
    params: Params({
      disabled: TriState('disable the courses'),
      provider: Text(255, 'the provider'),
      freeText1: Text(4000, 'free text 1'),
      freeText2: Text(4000, 'free text 2'),
    }),
    apply: async ({ catalog }, courseIds, params, batch) =>
      (
        await catalog.courses.modifyCourseInformation({
          batch,
          courseIds,
          disabled: triState(params.disabled),
          provider: params.provider,
          freeText1: params.freeText1,
          freeText2: params.freeText2,
        })
      ).result!,
  }),
  defineAction({
    id: 'C2',
    assistant: 'courses',
    title: 'Modify standard custom fields',
    params: customFields,
    apply: async ({ catalog }, courseIds, params, batch) =>
      (await catalog.courses.modifyCourseCustomFields({ batch, courseIds, ...params })).result!,
  }),
  defineAction({
    id: 'C3',
    assistant: 'courses',
    title: 'Modify settings and options',
    params: Params({
      selfEnrolment: TriState('learners may enrol themselves'),
      selfUnenrolment: TriState('learners may unenrol themselves'),
      learnerMayClearStats: TriState('learners may clear their statistics'),
      learnerMayRecomputeStatus: TriState('learners may recompute their status'),
      sequentialLessons: TriState('sequential lessons; never the same as prerequisites (one set alone sets the other to its opposite)'),
      prerequisites: TriState('administrators may add prerequisites to lessons and blocks; never the same as sequentialLessons'),
      courseType: OrUnchanged(COURSE_TYPES, 'AICC-compatible SCORM, AICC only or instructor-led'),
      protocol: OrUnchanged(PROTOCOLS, 'AICC (HACP) or SCORM (API)'),
      reviewMode: OrUnchanged(CMI_MODES, 'CMI review mode'),
      browseMode: OrUnchanged(CMI_MODES, 'CMI browse mode'),
      windowWidth: Pixels('width of the course window'),
      windowHeight: Pixels('height of the course window'),
      fullScreen: TriState('the course opens full screen'),
    }),
    apply: async ({ catalog }, courseIds, params, batch) =>
      (
        await catalog.courses.modifyCourseSettings({
          batch,
          courseIds,
          selfEnrolment: triState(params.selfEnrolment),
          selfUnenrolment: triState(params.selfUnenrolment),
          learnerMayClearStats: triState(params.learnerMayClearStats),
          learnerMayRecomputeStatus: triState(params.learnerMayRecomputeStatus),
          sequentialLessons: triState(params.sequentialLessons),
          prerequisites: triState(params.prerequisites),
          courseType: unlessUnchanged(params.courseType),
          protocol: unlessUnchanged(params.protocol),
          reviewMode: unlessUnchanged(params.reviewMode),
          browseMode: unlessUnchanged(params.browseMode),
          windowWidth: params.windowWidth,
          windowHeight: params.windowHeight,
          fullScreen: triState(params.fullScreen),
        })
      ).result!,
  }),
  defineAction({
    id: 'C4',
    assistant: 'courses',
    title: 'Add audiences',
    params: audiences,
    apply: async ({ catalog }, courseIds, params, batch) =>
      (await catalog.courses.addCourseAudiences({ batch, courseIds, audienceIds: params.audienceIds })).result!,
  }),
  defineAction({
    id: 'P1',
    assistant: 'curricula',
    title: 'Modify general information',
    params: Params({
      disabled: TriState('disable the curricula'),
      freeText1: Text(4000, 'free text 1'),
      freeText2: Text(4000, 'free text 2'),
    }),
    apply: async ({ catalog }, curriculumIds, params, batch) =>
      (
        await catalog.curricula.modifyCurriculumInformation({
          batch,
          curriculumIds,
          disabled: triState(params.disabled),
          freeText1: params.freeText1,
          freeText2: params.freeText2,
        })
      ).result!,
  }),
  defineAction({
    id: 'P2',
    assistant: 'curricula',
    title: 'Modify custom fields',
    params: customFields,
    apply: async ({ catalog }, curriculumIds, params, batch) =>
      (await catalog.curricula.modifyCurriculumCustomFields({ batch, curriculumIds, ...params })).result!,
  }),
  defineAction({
    id: 'P3',
    assistant: 'curricula',
    title: 'Add audiences',
    params: audiences,
    apply: async ({ catalog }, curriculumIds, params, batch) =>
      (await catalog.curricula.addCurriculumAudiences({ batch, curriculumIds, audienceIds: params.audienceIds })).result!,
  }),
];
