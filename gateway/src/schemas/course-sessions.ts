import { Type } from '@sinclair/typebox';
import { Id } from './common';

const DateTime = (description: string) => Type.String({ description: `${description} (YYYY-MM-DDTHH:mm, wall clock)` });

export const LessonSession = Type.Object(
  { lessonId: Id, lessonCode: Type.String(), start: DateTime('start'), end: DateTime('end') },
  { $id: 'LessonSession' },
);

/** A session of an instructor-led course (imported with I8). */
export const CourseSession = Type.Object(
  {
    id: Id,
    courseId: Id,
    externalId: Type.String({ description: "the session's id in the import files, unique within its course" }),
    start: DateTime('start of the session'),
    status: Type.String({ description: 'N in preparation, O open, C closed, D closed, X cancelled' }),
    maxParticipants: Type.Integer(),
    immediateConfirmation: Type.Boolean(),
    waitingList: Type.Boolean({ description: 'learners go on a waiting list once the session is full' }),
    mainTrainerId: Id,
    trainerIds: Type.Array(Id, { description: 'the other trainers' }),
    roomExtId: Type.String({ description: 'room or virtual room of another system; "" when none' }),
    managerId: Type.String({ description: 'a user id; "" when none' }),
    organisationIds: Type.Array(Id, { description: "the session's audience" }),
    lessonSessions: Type.Array(Type.Ref(LessonSession), { description: 'in the order imported' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'CourseSession' },
);

export const COURSE_SESSION_SCHEMAS = [LessonSession, CourseSession];
