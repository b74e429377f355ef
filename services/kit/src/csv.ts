/** CSV files the suite writes (results of a run, exports): a cell a spreadsheet would run as
 * a formula (starting with =, +, -, @, a tab or a carriage return) gets an apostrophe first,
 * which spreadsheets show as text (CSV injection). */
export function defuseCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** A cell separated by `;`: defused, then quoted when it holds the separator, a quote or a
 * line break. */
export function csvCell(value: string): string {
  const safe = defuseCell(value);
  return /[;"\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
