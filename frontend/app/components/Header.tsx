"use client";
import { Anchor, Badge, Button, Group, Text } from "@mantine/core";
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
    <Group justify="space-between" px="lg" py="sm" style={{ borderBottom: "1px solid #e9ecef", background: "#f8f9fa" }}>
      <Group gap="lg">
        <Anchor component={Link} href="/" fw={700} c="dark">cdcflow</Anchor>
        {user && LINKS.filter((l) => !l.admin || user.role === "admin").map((l) => (
          <Anchor key={l.href} component={Link} href={l.href} fw={pathname.startsWith(l.href) ? 700 : 400}>
            {l.label}
          </Anchor>
        ))}
      </Group>
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
  );
}
