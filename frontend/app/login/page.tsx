"use client";
import { Button, Card, PasswordInput, Stack, TextInput, Title } from "@mantine/core";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState, type FormEvent } from "react";

import ErrorText from "@/app/components/ErrorText";
import { safeNextPath } from "@/lib/redirect";
import { useAppDispatch, useAppSelector } from "@/lib/store/hooks";
import { login } from "@/lib/store/slices/authSlice";

function LoginForm() {
  const dispatch = useAppDispatch();
  const router = useRouter();
  // Only ever a path of this app: ?next=//evil.example must not turn the login page into an open redirect.
  const next = safeNextPath(useSearchParams().get("next"));
  const { status, error } = useAppSelector((s) => s.auth);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const result = await dispatch(login({ username, password }));
    if (login.fulfilled.match(result)) router.push(next);
  };
  return (
    <Card withBorder maw={380} mx="auto" mt="xl" p="lg">
      <form onSubmit={submit}>
        <Stack>
          <Title order={3}>Log in to cdcflow</Title>
          <TextInput label="Username" name="username" value={username} onChange={(e) => setUsername(e.target.value)}
            required autoFocus />
          <PasswordInput label="Password" name="password" value={password}
            onChange={(e) => setPassword(e.target.value)} required />
          <ErrorText error={error} />
          <Button type="submit" loading={status === "loading"}>Log in</Button>
        </Stack>
      </form>
    </Card>
  );
}

export default function LoginPage() {
  return <Suspense><LoginForm /></Suspense>;
}
