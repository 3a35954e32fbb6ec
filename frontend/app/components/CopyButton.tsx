"use client";
import { ActionIcon, CopyButton as MantineCopy, Tooltip } from "@mantine/core";

export default function CopyButton({ value, label }: { value: string; label: string }) {
  return (
    <MantineCopy value={value} timeout={1500}>
      {({ copied, copy }) => (
        <Tooltip label={copied ? "Copied" : `Copy ${label}`} withArrow>
          <ActionIcon size="sm" variant="subtle" color={copied ? "teal" : "gray"} onClick={copy}
            aria-label={`Copy ${label}`}>{copied ? "✓" : "⧉"}</ActionIcon>
        </Tooltip>
      )}
    </MantineCopy>
  );
}
