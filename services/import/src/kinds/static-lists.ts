import type { KindDeclaration } from '../engine/columns';

/** I7: users put in static lists, a user matched on its external id or its login, a list on
 * its name (created when missing). */
export const staticListsKind: KindDeclaration = {
  id: 'I7',
  kind: 'static-lists',
  title: 'Static lists',
  columns: [
    {
      name: 'USER',
      field: 'user',
      type: 'text',
      mandatory: true,
      maxLength: 100,
      description: 'external id or login of the user (option matchOn)',
      example: 'EMP-0042',
    },
    {
      name: 'LISTE_NAME',
      field: 'listName',
      type: 'text',
      mandatory: true,
      maxLength: 200,
      description: 'name of the static list (a list that does not exist is created in the Default folder)',
      example: 'Newcomers 2024',
    },
  ],
  options: [
    { name: 'matchOn', type: 'enum', values: ['extId', 'login'], default: 'extId', description: 'how USER finds the user' },
    {
      name: 'header',
      type: 'boolean',
      default: true,
      description: 'the first row is a header row (false: every row is data, USER then LISTE_NAME)',
    },
  ],
  headerOption: 'header',
};
