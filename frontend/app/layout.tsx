import type { Metadata } from "next";
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

export default function RootLayout({ children }: { children: ReactNode }) {
  const config = serverConfig();
  return (
    <html lang="en">
      <body style={{ margin: 0 }}>
        <Providers config={config}>
          <Header />
          <main style={{ padding: "1rem 1.5rem", maxWidth: 1400, margin: "0 auto" }}>{children}</main>
        </Providers>
      </body>
    </html>
  );
}
