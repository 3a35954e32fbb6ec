"use client";
import { ActionIcon, Anchor, Badge, Button, Group, Text, useComputedColorScheme, useMantineColorScheme }
  from "@mantine/core";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect } from "react";

import { useAppDispatch, useAppSelector } from "@/lib/store/hooks";
import { loadSession, logout } from "@/lib/store/slices/authSlice";

const LINKS = [
  { href: "/pipelines", label: "Pipelines" },
  { href: "/connections", label: "Connections" },
  { href: "/monitoring", label: "Monitoring" },
  { href: "/analytics", label: "Analytics" },
  { href: "/alerts", label: "Alerts" },
  { href: "/settings/users", label: "Users", admin: true },
];

// Follows the system setting until toggled; the choice is kept by Mantine (localStorage, no personal data).
function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme("light", { getInitialValueInEffect: true });
  const next = computed === "dark" ? "light" : "dark";
  return (
    <ActionIcon variant="default" size="md" aria-label={`Switch to ${next} mode`} data-testid="color-scheme-toggle"
      onClick={() => setColorScheme(next)} title={`Switch to ${next} mode`}>{computed === "dark" ? "☀" : "☾"}</ActionIcon>
  );
}

export default function Header() {
  const dispatch = useAppDispatch();
  const router = useRouter();
  const pathname = usePathname();
  const { user, status } = useAppSelector((s) => s.auth);
  useEffect(() => {
    if (status === "unknown") void dispatch(loadSession());
  }, [dispatch, status]);
  useEffect(() => {
    const open = pathname === "/" || pathname.startsWith("/login") || pathname.startsWith("/docs/");
    if (status === "anonymous" && !open) router.replace(`/login?next=${encodeURIComponent(pathname)}`);
  }, [status, pathname, router]);
  return (
    <Group justify="space-between" px="lg" py="sm" wrap="wrap" style={{
      borderBottom: "1px solid var(--mantine-color-default-border)", background: "var(--mantine-color-default)" }}>
      <Group gap="lg">
        <Anchor component={Link} href="/" fw={700} c="var(--mantine-color-text)">cdcflow</Anchor>
        {user && LINKS.filter((l) => !l.admin || user.role === "admin").map((l) => (
          <Anchor key={l.href} component={Link} href={l.href} fw={pathname.startsWith(l.href) ? 700 : 400}>
            {l.label}
          </Anchor>
        ))}
      </Group>
      <Group gap="sm">
      <ColorSchemeToggle />
      {user && (
        <Group gap="sm">
          <Text size="sm" data-testid="current-user">{user.username}</Text>
          <Badge data-testid="current-role" variant="light">{user.role}</Badge>
          <Button size="xs" variant="default" onClick={() => void dispatch(logout()).then(() => router.push("/login"))}>
            Log out
          </Button>
        </Group>
      )}
      </Group>
    </Group>
  );
}
