// A link to the page in docs/ that explains a form or an error (served by the web app at /docs/<name>).
import { Anchor } from "@mantine/core";

export default function DocLink({ doc, label = "Learn more" }: { doc: string; label?: string }) {
  return <Anchor href={`/docs/${doc}`} target="_blank" size="xs" data-testid={`doc-${doc}`}>{label}</Anchor>;
}
