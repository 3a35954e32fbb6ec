"use client";
// Shown while a list loads, so "nothing here" is only said once the answer is in.
import { Skeleton, Stack } from "@mantine/core";

export function TableSkeleton({ rows = 4 }: { rows?: number }) {
  return (
    <Stack gap={6} data-testid="loading-skeleton" aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => <Skeleton key={i} height={28} radius="sm" />)}
    </Stack>
  );
}
