"use client";
import { Button, Group, NumberInput, PasswordInput, Select, Stack, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";

import ErrorText from "@/app/components/ErrorText";
import TestResult from "@/app/components/TestResult";
import { connectionsApi, type Connection, type ConnectionCreate, type ConnectionTestResult, type ConnectionUpdate }
  from "@/lib/api/endpoints";
import { DATABASES, defaultPort, switchDatabaseType, type DatabaseType } from "@/lib/databases";
import { nameError, portError } from "@/lib/validation";

/** `lastTest`: the connection's last Test result (kept by the page: it shows again when the form reopens);
 * `onSaved` gets the Test made in the form too, so the page keeps it for the saved connection. */
type Props = { existing?: Connection; lastTest?: ConnectionTestResult; onCancel: () => void;
  onSaved: (c: Connection, tested: ConnectionTestResult | null) => void };

export default function ConnectionForm({ existing, lastTest, onSaved, onCancel }: Props) {
  const [form, setForm] = useState({
    name: existing?.name ?? "", connection_type: existing?.connection_type ?? "source",
    database_type: (existing?.database_type ?? "postgresql") as DatabaseType,
    host: existing?.host ?? "127.0.0.1",
    port: (existing?.port ?? defaultPort(existing?.database_type ?? "postgresql")) as number | string,
    database: existing?.database ?? "", username: existing?.username ?? "", password: "",
    schema: existing?.schema ?? "public",
  });
  const mariadb = form.database_type === "mariadb";
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [tested, setTested] = useState<ConnectionTestResult | null>(lastTest ?? null);
  const [testing, setTesting] = useState(false);
  const set = (k: string, v: unknown) => setForm((f) => ({ ...f, [k]: v }));
  // The stored password only ever goes where it was given: pointing it elsewhere needs it again (the API says 422).
  const moved = !!existing && (Number(form.port) !== existing.port ||
    (["host", "database", "username"] as const).some((k) => form[k] !== existing[k]));
  const passwordLabel = !existing ? "Password"
    : moved ? "Password (required: host, port, database or username changed)" : "Password (leave empty to keep)";
  const [touched, setTouched] = useState(false);
  const errors = { name: nameError(form.name), port: portError(form.port) };
  // The fields as they are now; the saved connection's own Test when its password was not typed again.
  const testNow = async () => {
    setTouched(true);
    if (errors.name || errors.port) return;
    setTesting(true);
    setError(null);
    try {
      const { password, port, database_type, ...rest } = form;
      setTested(existing && !password && !moved ? await connectionsApi.test(existing.id)
        : await connectionsApi.testDraft({ ...rest, ...(mariadb ? { schema: rest.database } : {}), port: Number(port),
          database_type, password } as ConnectionCreate));
    } catch (err) {
      setError(err);
    } finally {
      setTesting(false);
    }
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (errors.name || errors.port) return;
    setSaving(true);
    setError(null);
    try {
      const { password, port, database_type, ...rest } = form;
      // A MariaDB database is its own schema. The database type is chosen once, at creation: the update schema
      // does not take it (it would be a 422).
      const body: ConnectionUpdate = { ...rest, ...(mariadb ? { schema: rest.database } : {}), port: Number(port),
        ...(password ? { password } : {}) };
      onSaved(existing ? await connectionsApi.update(existing.id, body)
        : await connectionsApi.create({ ...body, database_type, password } as ConnectionCreate), tested);
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };
  return (
    <form onSubmit={submit}>
      <Stack gap="xs">
        <TextInput label="Name" name="name" value={form.name} onChange={(e) => set("name", e.target.value)} required
          error={(touched || form.name) ? errors.name : null} />
        <Group grow>
          <Select label="Type" name="connection_type" data={["source", "target"]} value={form.connection_type}
            onChange={(v) => set("connection_type", v)} allowDeselect={false} />
          <Select label="Database type" name="database_type" data-testid="database-type-select"
            data={DATABASES.map((d) => ({ value: d.value, label: d.label }))} value={form.database_type}
            disabled={!!existing} description={existing ? "Chosen at creation" : undefined} allowDeselect={false}
            onChange={(v) => v && setForm((f) => switchDatabaseType(f, v as DatabaseType))} />
        </Group>
        <Group grow>
          <TextInput label="Host" name="host" value={form.host} onChange={(e) => set("host", e.target.value)} required />
          {/* No clamping: 99999 is an error to fix, not silently 65535. */}
          <NumberInput label="Port" name="port" value={form.port} onChange={(v) => set("port", v)} min={1}
            max={65535} clampBehavior="none" allowDecimal={false} allowNegative={false} error={errors.port} />
        </Group>
        <Group grow>
          <TextInput label="Database" name="database" value={form.database}
            onChange={(e) => set("database", e.target.value)} required />
          {/* MariaDB has no schemas inside a database: the database is the schema. */}
          {!mariadb && <TextInput label="Schema" name="schema" value={form.schema}
            onChange={(e) => set("schema", e.target.value)} />}
        </Group>
        <TextInput label="Username" name="username" value={form.username}
          onChange={(e) => set("username", e.target.value)} required />
        {/* Write-only: the API never returns a password, so the field starts empty. */}
        <PasswordInput label={passwordLabel} name="password" value={form.password}
          onChange={(e) => set("password", e.target.value)} required={!existing || moved} autoComplete="new-password" />
        {tested && <TestResult result={tested} databaseType={form.database_type} testId="form-test-result" />}
        <ErrorText error={error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>Cancel</Button>
          <Button variant="light" loading={testing} onClick={() => void testNow()}
            disabled={!existing && !form.password} data-testid="form-test"
            title={!existing && !form.password ? "Type the password to test" : "Test these settings without saving"}>
            Test</Button>
          <Button type="submit" loading={saving}>Save</Button>
        </Group>
      </Stack>
    </form>
  );
}
