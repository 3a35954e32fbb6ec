"use client";
import { Badge, Button, Group, PasswordInput, Select, Stack, Switch, Table, Text, TextInput, Title }
  from "@mantine/core";
import { useEffect, useState, type FormEvent } from "react";

import ConfirmDialog from "@/app/components/ConfirmDialog";
import ErrorText from "@/app/components/ErrorText";
import { TableSkeleton } from "@/app/components/Skeleton";
import { usersApi, type Role, type UserPublic } from "@/lib/api/endpoints";
import { useAppSelector } from "@/lib/store/hooks";
import { MIN_PASSWORD, passwordError, usernameError } from "@/lib/validation";

// Deactivating or deleting ends that user's sessions at once: both are asked about first.
type Pending = { kind: "delete" | "deactivate"; user: UserPublic } | { kind: "role"; user: UserPublic; role: Role }
  | null;

const ROLE_MEANING: Record<Role, string> = {
  admin: "an admin? They see and change everything, users and access included.",
  operator: "an operator? They create connections and pipelines and run what they own or were granted.",
  viewer: "a viewer? They can only read, and only what was granted to them: nothing is started, stopped or changed by them.",
};

export default function UsersPage() {
  const me = useAppSelector((s) => s.auth.user);
  const [users, setUsers] = useState<UserPublic[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [form, setForm] = useState({ username: "", password: "", role: "viewer" as Role });
  const [touched, setTouched] = useState(false);
  const [pending, setPending] = useState<Pending>(null);
  // An admin sets a new password for someone else (who then logs in with it; their sessions end at once).
  const [resetting, setResetting] = useState<UserPublic | null>(null);
  const [newPassword, setNewPassword] = useState("");
  const [resetDone, setResetDone] = useState<string | null>(null);
  const load = () => usersApi.list().then(setUsers).catch(setError);
  useEffect(() => { if (me?.role === "admin") void load(); }, [me?.role]);
  if (me && me.role !== "admin") return <ErrorText error="Only admins manage users." />;
  const fieldErrors = { username: usernameError(form.username), password: passwordError(form.password) };
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (fieldErrors.username || fieldErrors.password) return;
    setError(null);
    try {
      await usersApi.create(form);
      setForm({ username: "", password: "", role: "viewer" });
      setTouched(false);
      await load();
    } catch (err) {
      setError(err);
    }
  };
  const update = async (u: UserPublic, body: { role?: Role; active?: boolean }) => {
    setError(null);
    try { await usersApi.update(u.id, body); await load(); } catch (err) { setError(err); }
  };
  const resetPassword = async () => {
    if (!resetting || passwordError(newPassword)) return;
    setError(null);
    try {
      await usersApi.update(resetting.id, { password: newPassword });
      setResetDone(resetting.username);
      setResetting(null);
    } catch (err) { setError(err); setResetting(null); }
  };
  const confirmPending = async () => {
    if (!pending) return;
    const { kind, user } = pending;
    setPending(null);
    if (kind === "deactivate") return update(user, { active: false });
    if (pending.kind === "role") return update(user, { role: pending.role });
    setError(null);
    try { await usersApi.remove(user.id); await load(); } catch (err) { setError(err); }
  };
  return (
    <Stack>
      <Title order={2}>Users</Title>
      <ErrorText error={error} />
      {resetDone && <Text size="sm" c="green" data-testid="password-reset-done">
        New password set for {resetDone}: their sessions ended; give them the password another way.</Text>}
      <Table withTableBorder data-testid="users-table">
        <Table.Thead><Table.Tr><Table.Th>User</Table.Th><Table.Th>Role</Table.Th><Table.Th>Active</Table.Th>
          <Table.Th>Last login</Table.Th><Table.Th /></Table.Tr></Table.Thead>
        <Table.Tbody>{(users ?? []).map((u) => {
          // Your own role and account are changed by another admin: one click must not lock you out.
          const self = u.id === me?.id;
          return (
            <Table.Tr key={u.id} data-testid={`user-${u.username}`}>
              <Table.Td>{u.username} {self && <Badge size="xs">you</Badge>}</Table.Td>
              <Table.Td><Select size="xs" w={130} data={["admin", "operator", "viewer"]} value={u.role}
                allowDeselect={false} disabled={self} aria-label={`Role of ${u.username}`}
                onChange={(v) => v && v !== u.role && setPending({ kind: "role", user: u, role: v as Role })} /></Table.Td>
              <Table.Td><Switch checked={u.active} disabled={self} aria-label={`${u.username} active`}
                title={self ? "You cannot deactivate yourself" : undefined}
                onChange={(e) => e.target.checked ? void update(u, { active: true })
                  : setPending({ kind: "deactivate", user: u })} /></Table.Td>
              <Table.Td>{u.last_login_at ? new Date(u.last_login_at).toLocaleString() : "–"}</Table.Td>
              <Table.Td>{!self && <Group gap="xs" justify="flex-end" wrap="nowrap">
                <Button size="xs" variant="default" data-testid={`reset-password-${u.username}`}
                  onClick={() => { setNewPassword(""); setResetDone(null); setResetting(u); }}>Reset password</Button>
                <Button size="xs" color="red" variant="subtle"
                  onClick={() => setPending({ kind: "delete", user: u })}>Delete</Button></Group>}</Table.Td>
            </Table.Tr>
          );
        })}
        </Table.Tbody>
      </Table>
      {users === null && !error && <TableSkeleton rows={3} />}
      <form onSubmit={create} noValidate>
        <Title order={4} mb="xs">Add a user</Title>
        <Group align="flex-start" wrap="wrap">
          <TextInput label="Username" w={220} value={form.username} name="new-username"
            error={touched || form.username ? fieldErrors.username : null}
            onChange={(e) => setForm({ ...form, username: e.target.value })} />
          <PasswordInput label="Password" w={260} value={form.password} autoComplete="new-password" name="new-password"
            description={`At least ${MIN_PASSWORD} characters`}
            error={touched || form.password ? fieldErrors.password : null}
            onChange={(e) => setForm({ ...form, password: e.target.value })} />
          <Select label="Role" w={140} data={["admin", "operator", "viewer"]} value={form.role} allowDeselect={false}
            onChange={(v) => setForm({ ...form, role: (v ?? "viewer") as Role })} />
          <Button type="submit" mt={24}>Add user</Button>
        </Group>
      </form>
      <ConfirmDialog opened={resetting !== null} title="Reset password?" confirmLabel="Set password"
        disabled={Boolean(passwordError(newPassword))} onCancel={() => setResetting(null)}
        onConfirm={() => void resetPassword()}>
        <Text size="sm">Set a new password for {resetting?.username}. They are logged out everywhere at once and log
          in with this password next.</Text>
        <PasswordInput label="New password" autoComplete="new-password" name="reset-password" value={newPassword}
          description={`At least ${MIN_PASSWORD} characters`} error={newPassword ? passwordError(newPassword) : null}
          onChange={(e) => setNewPassword(e.currentTarget.value)} />
      </ConfirmDialog>
      <ConfirmDialog opened={pending !== null} onCancel={() => setPending(null)} onConfirm={() => void confirmPending()}
        danger={pending?.kind !== "role"}
        title={pending?.kind === "delete" ? "Delete user?" : pending?.kind === "role" ? "Change role?" : "Deactivate user?"}
        confirmLabel={pending?.kind === "delete" ? "Delete" : pending?.kind === "role" ? "Change role" : "Deactivate"}>
        <Text>{pending?.kind === "delete"
          ? `Delete ${pending.user.username}? Their sessions end now and the account is gone for good.`
          : pending?.kind === "role" ? `Make ${pending.user.username} ${ROLE_MEANING[pending.role]}`
            : `Deactivate ${pending?.user.username}? They are logged out at once and cannot log in until reactivated.`}
        </Text>
      </ConfirmDialog>
    </Stack>
  );
}
