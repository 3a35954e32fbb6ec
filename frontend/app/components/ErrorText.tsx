"use client";
import { Alert } from "@mantine/core";

export default function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return <Alert color="red" role="alert" my="sm">{message}</Alert>;
}
