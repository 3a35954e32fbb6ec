"use client";
import "@mantine/core/styles.css";

import { MantineProvider } from "@mantine/core";
import { useRef, type ReactNode } from "react";
import { Provider } from "react-redux";

import type { AppConfig } from "@/lib/config";
import { makeStore, type AppStore } from "@/lib/store/store";

export default function Providers({ config, children }: { config: AppConfig; children: ReactNode }) {
  const store = useRef<AppStore | null>(null);
  if (store.current === null) {
    if (typeof window !== "undefined") window.__CDCFLOW_CONFIG__ = config;
    store.current = makeStore();
  }
  return (
    <Provider store={store.current}>
      <MantineProvider defaultColorScheme="auto">{children}</MantineProvider>
    </Provider>
  );
}
