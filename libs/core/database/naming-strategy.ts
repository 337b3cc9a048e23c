import { DefaultNamingStrategy, type Table } from 'typeorm';

const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const tableOf = (t: Table | string): string => (typeof t === 'string' ? t : t.name).split('.').pop() ?? '';

/** snake_case columns and readable constraint names (pk_, fk_, uq_, ix_) so migrations read well. */
export class AirlockNamingStrategy extends DefaultNamingStrategy {
  override columnName(propertyName: string, customName: string | undefined, prefixes: string[]): string {
    return customName ?? snake([...prefixes, propertyName].join('_'));
  }
  override primaryKeyName(table: Table | string): string {
    return `pk_${tableOf(table)}`;
  }
  override foreignKeyName(table: Table | string, columns: string[]): string {
    return `fk_${tableOf(table)}_${columns.join('_')}`;
  }
  override uniqueConstraintName(table: Table | string, columns: string[]): string {
    return `uq_${tableOf(table)}_${columns.join('_')}`;
  }
  override relationConstraintName(table: Table | string, columns: string[]): string {
    return `rel_${tableOf(table)}_${columns.join('_')}`;
  }
  override indexName(table: Table | string, columns: string[]): string {
    return `ix_${tableOf(table)}_${columns.join('_')}`;
  }
  override joinColumnName(relationName: string, referencedColumnName: string): string {
    return snake(`${relationName}_${referencedColumnName}`);
  }
}
