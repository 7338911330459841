/** Options of `nx g @relay/nx-plugin:service` (schema.json). */
export interface ServiceGeneratorSchema {
  /** New service's name; with `existing`, ignored. */
  name?: string;
  /** Project name of an app made by `@nx/nest:app` to secure instead. */
  existing?: string;
  port?: number;
  scope?: string;
  skipFormat?: boolean;
}
