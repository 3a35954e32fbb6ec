// A Kafka Connect trace turned into one plain sentence and what to do about it (pure, unit-tested). The patterns
// are the failures operators meet most; anything else shows the exception's own first line.

type Explanation = { cause: string; todo: string };

const KNOWN: { match: RegExp; cause: string; todo: string }[] = [
  { match: /password authentication failed|authentication failed/i,
    cause: "The database refused the login (wrong password or user).",
    todo: "Fix the connection's user or password on Connections, then restart the failed task." },
  { match: /Connection refused|could not connect|UnknownHostException|Connection to .* refused/i,
    cause: "The database cannot be reached from Kafka Connect.",
    todo: "Check that the database is up and reachable, then restart the failed task." },
  { match: /replication slot .* does not exist|slot .* (was )?dropped/i,
    cause: "The replication slot is gone: changes since it was dropped are lost.",
    todo: "Reset the pipeline (a new full load and a new slot)." },
  { match: /does not exist/i,
    cause: "A table or column the connector needs does not exist (changed or dropped on one side).",
    todo: "Review the schema changes on this page, or resync the table, then restart the failed task." },
  { match: /permission denied|must be superuser|insufficient privilege/i,
    cause: "The database user lacks a privilege the connector needs.",
    todo: "Grant the privilege named in the trace (see the preflight checks on Connections → Test), then restart." },
  { match: /violates (not-null|unique|foreign key|check) constraint|duplicate key/i,
    cause: "The target refused a row: a constraint on the target table does not match the source.",
    todo: "Align the target table's constraints with the source, or resync the table, then restart the failed task." },
  { match: /TimeoutException|timed out/i,
    cause: "An operation timed out (a slow or overloaded database or broker).",
    todo: "Check the load on the database and Kafka, then restart the failed task." },
];

export function explainFailure(trace: string): Explanation {
  const known = KNOWN.find((k) => k.match.test(trace));
  if (known) return { cause: known.cause, todo: known.todo };
  const first = trace.split("\n").find((l) => l.trim()) ?? "The task failed without a message.";
  // "org.apache.kafka.connect.errors.ConnectException: message" -> "message"
  const message = first.replace(/^[\w.$]+(Exception|Error):\s*/, "").slice(0, 200);
  return { cause: message || first.slice(0, 200), todo: "Read the trace, fix its cause, then restart the failed task." };
}
