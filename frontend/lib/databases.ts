// The database kinds a connection can be: labels, default ports, and what the connection form fills in for each.
import type { Connection } from "@/lib/api/endpoints";

export type DatabaseType = Connection["database_type"];

export const DATABASES: { value: DatabaseType; label: string; port: number; schema: string | null }[] = [
  // A MariaDB database is what PostgreSQL calls a schema: its schema is the database itself (null here).
  { value: "postgresql", label: "PostgreSQL", port: 5432, schema: "public" },
  { value: "mariadb", label: "MariaDB", port: 3306, schema: null },
];

export function databaseLabel(type: string): string {
  return DATABASES.find((d) => d.value === type)?.label ?? type;
}

export function defaultPort(type: DatabaseType): number {
  return DATABASES.find((d) => d.value === type)?.port ?? 5432;
}

/** The server's version as the Test result shows it: MariaDB names itself in its version string, PostgreSQL not. */
export function versionLabel(type: string, version: string): string {
  return version.toLowerCase().includes(type.toLowerCase()) ? version : `${databaseLabel(type)} ${version}`;
}

type Form = { database_type: DatabaseType; port: number | string; schema: string };

/** The form after picking another database type: a port still at the old type's default follows the new type's
 * (a port the user typed stays), and so does a schema still at its default. */
export function switchDatabaseType<F extends Form>(form: F, next: DatabaseType): F {
  const before = DATABASES.find((d) => d.value === form.database_type);
  const after = DATABASES.find((d) => d.value === next);
  if (!before || !after) return form;
  const port = Number(form.port) === before.port || form.port === "" ? after.port : form.port;
  const schema = form.schema === (before.schema ?? "") ? (after.schema ?? "") : form.schema;
  return { ...form, database_type: next, port, schema };
}
