import type { KindDeclaration } from '../engine/columns';

/** I1: organisations, matched on their external id. */
export const organisationsKind: KindDeclaration = {
  id: 'I1',
  kind: 'organisations',
  title: 'Organisations',
  key: 'extId',
  columns: [
    { name: 'org_label', field: 'label', type: 'text', mandatory: true, description: 'name of the organisation', example: 'Lyon' },
    {
      name: 'org_extid',
      field: 'extId',
      type: 'text',
      mandatory: true,
      maxLength: 100,
      description: 'external id (the key of the row)',
      example: 'FR-LYON',
    },
    {
      name: 'parent_extid',
      field: 'parentExtId',
      type: 'text',
      maxLength: 100,
      description: 'external id of the parent organisation (a row further down the file may define it); empty: the root',
      example: 'FR',
    },
    { name: 'org_disabled', field: 'disabled', type: 'flag', description: '1 disabled, 0 or empty enabled', example: '0' },
    { name: 'org_description', field: 'description', type: 'text', maxLength: 2000, description: 'description', example: 'Lyon offices' },
    {
      name: 'org_language',
      field: 'language',
      type: 'enum',
      values: ['en-EN', 'fr-FR', 'es-ES'],
      description: 'language',
      example: 'fr-FR',
    },
    { name: 'org_address1', field: 'addressLine1', type: 'text', description: 'address line 1', example: '1 place Bellecour' },
    { name: 'org_address2', field: 'addressLine2', type: 'text', description: 'address line 2', example: '' },
    { name: 'org_zip', field: 'zip', type: 'text', maxLength: 20, description: 'postal code', example: '69002' },
    { name: 'org_city', field: 'city', type: 'text', description: 'city', example: 'Lyon' },
    { name: 'org_country', field: 'country', type: 'text', description: 'country', example: 'France' },
    { name: 'org_code', field: 'code', type: 'text', maxLength: 100, description: 'code', example: 'LYO' },
    { name: 'org_budget', field: 'budget', type: 'decimal', description: 'budget', example: '12500.50' },
    {
      name: 'org_supervisor_extid',
      field: 'supervisorExtId',
      type: 'text',
      maxLength: 100,
      description: 'external id of the supervising user (a warning when not found)',
      example: 'EMP-0001',
    },
  ],
  options: [
    { name: 'updateNames', type: 'boolean', default: true, description: 'rename existing organisations (matched on org_extid)' },
    {
      name: 'updateHierarchy',
      type: 'boolean',
      default: false,
      description: 'move existing organisations under the parent the file gives',
    },
    {
      name: 'onlyFilledCells',
      type: 'boolean',
      default: true,
      description: 'change the additional information only where the cell is not empty',
    },
  ],
};
