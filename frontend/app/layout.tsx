import { ColorSchemeScript, mantineHtmlProps } from "@mantine/core";
import type { Metadata } from "next";
import { headers } from "next/headers";
import type { ReactNode } from "react";

import Header from "@/app/components/Header";
import Providers from "@/app/providers";
import { serverConfig } from "@/lib/config";

export const metadata: Metadata = {
  title: "cdcflow",
  description: "Change Data Capture pipelines: Debezium, Kafka Connect, live monitoring",
};

// Configuration is read at request time, so one production build serves any API address.
export const dynamic = "force-dynamic";

export default async function RootLayout({ children }: { children: ReactNode }) {
  const config = serverConfig();
  // The color scheme script runs before the page paints (no light flash in dark mode); it carries the CSP nonce.
  const nonce = (await headers()).get("x-nonce") ?? undefined;
  return (
    <html lang="en" {...mantineHtmlProps}>
      <head><ColorSchemeScript defaultColorScheme="auto" nonce={nonce} /></head>
      <body style={{ margin: 0 }}>
        <Providers config={config}>
          <Header />
          <main style={{ padding: "1rem 1.5rem", maxWidth: 1400, margin: "0 auto" }}>{children}</main>
        </Providers>
      </body>
    </html>
  );
}
