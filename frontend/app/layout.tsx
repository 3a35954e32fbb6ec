import type { Metadata } from "next";
import type { ReactNode } from "react";

export const metadata: Metadata = {
  title: "cdcflow",
  description: "Change Data Capture pipelines: Debezium, Kafka Connect, live monitoring",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui, sans-serif", margin: "2rem", color: "#1f2933" }}>{children}</body>
    </html>
  );
}
