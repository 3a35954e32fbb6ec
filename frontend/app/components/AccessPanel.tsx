"use client";
// Admins only: who owns a pipeline or connection, who else may view, operate or manage it; grant, change, revoke.
import { Badge, Button, Card, Group, Select, Stack, Table, Text, Title } from "@mantine/core";
import { useEffect, useState } from "react";

import ErrorText from "@/app/components/ErrorText";
import { grantCandidates, grantableLevels, ownerCandidates } from "@/lib/access";
import {
  accessApi, usersApi, type AccessLevel, type ResourceAccess, type ResourceKind, type UserPublic,
} from "@/lib/api/endpoints";

export default function AccessPanel({ kind, id }: { kind: ResourceKind; id: string }) {
  const [access, setAccess] = useState<ResourceAccess | null>(null);
  const [users, setUsers] = useState<UserPublic[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [userId, setUserId] = useState<string | null>(null);
  const [level, setLevel] = useState<AccessLevel>("view");
  const [newOwner, setNewOwner] = useState<string | null>(null);
  const load = async () => {
    try {
      const [a, u] = await Promise.all([accessApi.get(kind, id), usersApi.list()]);
      setAccess(a);
      setUsers(u);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => { void load(); }, [kind, id]);
  const act = async (call: () => Promise<unknown>) => {
    setError(null);
    try { await call(); await load(); } catch (err) { setError(err); }
  };
  if (!access) return <ErrorText error={error} />;
  const candidates = grantCandidates(users, access);
  const chosen = candidates.find((u) => u.id === userId);
  const levels = chosen ? grantableLevels(chosen.role) : [];
  return (
    <Card withBorder data-testid="access-panel">
      <Title order={4} mb="xs">Access</Title>
      <Stack gap="xs">
        <Group gap="xs">
          <Text size="sm">Owner:</Text>
          <Text size="sm" fw={600} data-testid="access-owner">
            {access.owner ? access.owner.username : "nobody (admins only)"}</Text>
          <Select size="xs" w={200} placeholder="Transfer to…" clearable value={newOwner} onChange={setNewOwner}
            data={ownerCandidates(users, access).map((u) => ({ value: u.id, label: `${u.username} (${u.role})` }))}
            aria-label="New owner" />
          <Button size="xs" variant="default" disabled={!newOwner}
            onClick={() => void act(async () => { await accessApi.setOwner(kind, id, newOwner); setNewOwner(null); })}>
            Transfer</Button>
          {access.owner && <Button size="xs" variant="subtle" color="red" data-testid="access-disown"
            onClick={() => void act(() => accessApi.setOwner(kind, id, null))}>Remove owner</Button>}
        </Group>
        <ErrorText error={error} />
        <Table data-testid="access-grants">
          <Table.Thead><Table.Tr><Table.Th>User</Table.Th><Table.Th>Level</Table.Th><Table.Th>Granted by</Table.Th>
            <Table.Th /></Table.Tr></Table.Thead>
          <Table.Tbody>
            {access.grants.length === 0 && (
              <Table.Tr><Table.Td colSpan={4}><Text size="sm" c="dimmed">No grants: only the owner and admins
                see it.</Text></Table.Td></Table.Tr>)}
            {access.grants.map((g) => (
              <Table.Tr key={g.user.id} data-testid={`grant-${g.user.username}`}>
                <Table.Td>{g.user.username} <Badge size="xs" variant="light">{g.user.role}</Badge></Table.Td>
                <Table.Td>
                  <Select size="xs" w={120} data={grantableLevels(g.user.role)} value={g.level} allowDeselect={false}
                    aria-label={`Level of ${g.user.username}`}
                    onChange={(v) => v && void act(() => accessApi.grant(kind, id, g.user.id, v as AccessLevel))} />
                </Table.Td>
                <Table.Td><Text size="sm">{g.granted_by}</Text></Table.Td>
                <Table.Td><Button size="xs" variant="subtle" color="red" data-testid="grant-revoke"
                  onClick={() => void act(() => accessApi.revoke(kind, id, g.user.id))}>Revoke</Button></Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <Group align="flex-end" gap="xs">
          <Select size="xs" w={220} label="User" placeholder="Choose a user" value={userId} searchable
            data={candidates.map((u) => ({ value: u.id, label: `${u.username} (${u.role})` }))}
            onChange={(v) => { setUserId(v); setLevel("view"); }} data-testid="grant-user" />
          <Select size="xs" w={120} label="Level" data={levels} value={level} allowDeselect={false}
            onChange={(v) => setLevel((v ?? "view") as AccessLevel)} data-testid="grant-level" />
          <Button size="xs" disabled={!userId} data-testid="grant-add"
            onClick={() => userId && void act(async () => {
              await accessApi.grant(kind, id, userId, level);
              setUserId(null);
            })}>Grant</Button>
        </Group>
      </Stack>
    </Card>
  );
}
