"use client";
import { Badge, Button, Group, Modal, Stack, Table, Text, Title } from "@mantine/core";
import { useEffect, useState } from "react";

import AccessPanel from "@/app/components/AccessPanel";
import ConnectionForm from "@/app/connections/ConnectionForm";
import ErrorText from "@/app/components/ErrorText";
import { TableSkeleton } from "@/app/components/Skeleton";
import TestResult from "@/app/components/TestResult";
import { canManage, canOperate } from "@/lib/access";
import { connectionsApi, type Connection, type ConnectionTestResult } from "@/lib/api/endpoints";
import { databaseLabel } from "@/lib/databases";
import { useAppDispatch, useAppSelector } from "@/lib/store/hooks";
import { connectionRemoved, connectionSaved, fetchConnections } from "@/lib/store/slices/connectionSlice";

export default function ConnectionsPage() {
  const dispatch = useAppDispatch();
  const { items, error, loaded } = useAppSelector((s) => s.connections);
  const role = useAppSelector((s) => s.auth.user?.role);
  const canWrite = role === "admin" || role === "operator";
  const [editing, setEditing] = useState<Connection | "new" | null>(null);
  const [results, setResults] = useState<Record<string, ConnectionTestResult | "testing">>({});
  const [confirm, setConfirm] = useState<Connection | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  useEffect(() => { void dispatch(fetchConnections()); }, [dispatch]);

  const test = async (c: Connection) => {
    setResults((r) => ({ ...r, [c.id]: "testing" }));
    try {
      const result = await connectionsApi.test(c.id);
      setResults((r) => ({ ...r, [c.id]: result }));
    } catch (err) {
      setActionError(err);
      setResults((r) => { const { [c.id]: _, ...rest } = r; return rest; });
    }
  };
  const remove = async (c: Connection) => {
    try {
      await connectionsApi.remove(c.id);
      dispatch(connectionRemoved(c.id));
    } catch (err) {
      setActionError(err);
    }
    setConfirm(null);
  };
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Connections</Title>
        <Group>
          <Button variant="default" size="xs" onClick={() => void dispatch(fetchConnections())}>Refresh</Button>
          {canWrite && <Button onClick={() => setEditing("new")}>New connection</Button>}
        </Group>
      </Group>
      <ErrorText error={error ?? actionError} />
      <Table.ScrollContainer minWidth={900}>
        <Table striped withTableBorder data-testid="connections-table">
          <Table.Thead>
            <Table.Tr><Table.Th>Name</Table.Th><Table.Th>Type</Table.Th><Table.Th>Database</Table.Th><Table.Th>Address</Table.Th>
              <Table.Th>User</Table.Th><Table.Th>Test</Table.Th><Table.Th /></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((c) => {
              const r = results[c.id];
              return (
                <Table.Tr key={c.id} data-testid={`connection-${c.name}`}>
                  <Table.Td>{c.name}</Table.Td>
                  <Table.Td><Badge variant="light">{c.connection_type}</Badge></Table.Td>
                  <Table.Td data-testid="database-type">
                    <Badge variant="outline" color={c.database_type === "mariadb" ? "teal" : "blue"}>
                      {databaseLabel(c.database_type)}</Badge>
                  </Table.Td>
                  <Table.Td>{c.host}:{c.port}/{c.database}</Table.Td>
                  <Table.Td>{c.username}</Table.Td>
                  <Table.Td>{r && r !== "testing" ? <TestResult result={r} databaseType={c.database_type} /> : null}</Table.Td>
                  <Table.Td>
                    {canWrite && (
                      <Group gap="xs" justify="flex-end">
                        {canOperate(c.access) &&
                          <Button size="xs" variant="light" loading={r === "testing"} onClick={() => void test(c)}>Test</Button>}
                        {canManage(c.access) && <>
                          <Button size="xs" variant="default" onClick={() => setEditing(c)}>Edit</Button>
                          <Button size="xs" color="red" variant="subtle" onClick={() => setConfirm(c)}>Delete</Button>
                        </>}
                      </Group>
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {!loaded && <TableSkeleton />}
      {loaded && !error && !items.length && <Text c="dimmed" data-testid="empty-state">No connections yet.</Text>}
      <Modal opened={editing !== null} onClose={() => setEditing(null)} size={role === "admin" ? "lg" : "md"}
        title={editing === "new" ? "New connection" : "Edit connection"}>
        {editing !== null && (
          <ConnectionForm existing={editing === "new" ? undefined : editing} onCancel={() => setEditing(null)}
            lastTest={editing !== "new" && results[editing.id] !== "testing" ? results[editing.id] as
              ConnectionTestResult | undefined : undefined}
            onSaved={(c, tested) => {
              dispatch(connectionSaved(c));
              if (tested) setResults((r) => ({ ...r, [c.id]: tested }));
              setEditing(null);
            }} />
        )}
        {editing !== null && editing !== "new" && role === "admin" && (
          <Stack mt="md"><AccessPanel kind="connections" id={editing.id} /></Stack>
        )}
      </Modal>
      <Modal opened={confirm !== null} onClose={() => setConfirm(null)} title="Delete connection?">
        <Text>Delete {confirm?.name}? Pipelines using it must be deleted first.</Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setConfirm(null)}>Cancel</Button>
          <Button color="red" onClick={() => confirm && void remove(confirm)}>Delete</Button>
        </Group>
      </Modal>
    </Stack>
  );
}
