// Payloads arrive columnar ({column: [values...]}) with repeated strings interned in `strings`, which
// keeps a 1,000-stage application small on the wire; these helpers turn them back into row objects.

/**
 * Rows of a columnar table. `stringColumns` hold indexes into `strings` (null stays null).
 * @param {Record<string, any[]>} table
 * @param {string[]} strings
 * @param {string[]} stringColumns
 */
export function decodeTable(table, strings = [], stringColumns = []) {
  if (!table) return [];
  const columns = Object.keys(table);
  const n = columns.length ? table[columns[0]].length : 0;
  const isString = new Set(stringColumns);
  const rows = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = {};
    for (const c of columns) {
      const v = table[c][i];
      row[c] = isString.has(c) ? (v === null || v === undefined ? null : strings[v]) : v;
    }
    rows[i] = row;
  }
  return rows;
}
