/**
 * A JSON Schema validator for the keywords protocol/report.schema.json uses (the generator refuses any
 * other): type, const, enum, required, properties, items, minimum, maximum. Properties the schema does not
 * name are allowed: the contract is extended, never renamed.
 *
 * Pure module: no JupyterLab imports.
 */

export type SchemaType =
  'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

/** The subset of a JSON Schema that `matchesSchema` checks. */
export interface ISchema {
  type?: SchemaType | SchemaType[];
  const?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: { [name: string]: ISchema };
  items?: ISchema;
  minimum?: number;
  maximum?: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasType(value: unknown, type: SchemaType): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
  }
}

/** Whether `value` is valid against `schema` (JSON values: no functions, no cycles beyond the schema's depth). */
export function matchesSchema(schema: ISchema, value: unknown): boolean {
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some(type => hasType(value, type))) {
      return false;
    }
  }
  if ('const' in schema && value !== schema.const) {
    return false;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    return false;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && !(value >= schema.minimum)) {
      return false;
    }
    if (schema.maximum !== undefined && !(value <= schema.maximum)) {
      return false;
    }
  }
  if (isObject(value)) {
    for (const name of schema.required ?? []) {
      if (!Object.prototype.hasOwnProperty.call(value, name)) {
        return false;
      }
    }
    for (const [name, sub] of Object.entries(schema.properties ?? {})) {
      if (
        Object.prototype.hasOwnProperty.call(value, name) &&
        !matchesSchema(sub, value[name])
      ) {
        return false;
      }
    }
  }
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    return value.every(item => matchesSchema(items, item));
  }
  return true;
}
