"use client";
import { Badge, Button, Group, PasswordInput, Select, Stack, Switch, Table, TextInput, Title } from "@mantine/core";
import { useEffect, useState, type FormEvent } from "react";

import ErrorText from "@/app/components/ErrorText";
import { usersApi, type Role, type UserPublic } from "@/lib/api/endpoints";
import { useAppSelector } from "@/lib/store/hooks";

export default function UsersPage() {
  const me = useAppSelector((s) => s.auth.user);
  const [users, setUsers] = useState<UserPublic[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [form, setForm] = useState({ username: "", password: "", role: "viewer" as Role });
  const load = () => usersApi.list().then(setUsers).catch(setError);
  useEffect(() => { if (me?.role === "admin") void load(); }, [me?.role]);
  if (me && me.role !== "admin") return <ErrorText error="Only admins manage users." />;
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await usersApi.create(form);
      setForm({ username: "", password: "", role: "viewer" });
      await load();
    } catch (err) {
      setError(err);
    }
  };
  const update = async (u: UserPublic, body: { role?: Role; active?: boolean }) => {
    try { await usersApi.update(u.id, body); await load(); } catch (err) { setError(err); }
  };
  return (
    <Stack>
      <Title order={2}>Users</Title>
      <ErrorText error={error} />
      <Table withTableBorder>
        <Table.Thead><Table.Tr><Table.Th>User</Table.Th><Table.Th>Role</Table.Th><Table.Th>Active</Table.Th>
          <Table.Th>Last login</Table.Th></Table.Tr></Table.Thead>
        <Table.Tbody>{users.map((u) => (
          <Table.Tr key={u.id}>
            <Table.Td>{u.username} {u.id === me?.id && <Badge size="xs">you</Badge>}</Table.Td>
            <Table.Td><Select size="xs" w={130} data={["admin", "operator", "viewer"]} value={u.role} allowDeselect={false}
              onChange={(v) => v && void update(u, { role: v as Role })} /></Table.Td>
            <Table.Td><Switch checked={u.active} onChange={(e) => void update(u, { active: e.target.checked })} /></Table.Td>
            <Table.Td>{u.last_login_at ? new Date(u.last_login_at).toLocaleString() : "–"}</Table.Td>
          </Table.Tr>))}
        </Table.Tbody>
      </Table>
      <form onSubmit={create}>
        <Group align="flex-end">
          <TextInput label="Username" value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} required />
          <PasswordInput label="Password" value={form.password} autoComplete="new-password"
            onChange={(e) => setForm({ ...form, password: e.target.value })} required />
          <Select label="Role" data={["admin", "operator", "viewer"]} value={form.role} allowDeselect={false}
            onChange={(v) => setForm({ ...form, role: (v ?? "viewer") as Role })} />
          <Button type="submit">Add user</Button>
        </Group>
      </form>
    </Stack>
  );
}
