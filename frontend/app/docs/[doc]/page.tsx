// The pages of the repository's docs/ folder, linked from forms and errors: a small Markdown subset (headings,
// paragraphs, lists, `code`, **bold**, [links](page)) rendered on the server, no HTML passed through. Plain elements:
// Mantine's compound components (List.Item) do not cross into server components.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { notFound } from "next/navigation";
import type { ReactNode } from "react";

const DOC = /^[a-z][a-z-]{0,40}$/;

function docsDir(): string {
  return process.env.CDCFLOW_DOCS_DIR ?? path.resolve(process.cwd(), "..", "docs");
}

function inline(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  const pattern = /(`[^`]+`|\*\*[^*]+\*\*|\*[^*]+\*|\[[^\]]+\]\([a-z-]+\))/g;
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    out.push(text.slice(last, m.index));
    const token = m[0];
    if (token.startsWith("`")) out.push(<code key={m.index}>{token.slice(1, -1)}</code>);
    else if (token.startsWith("**")) out.push(<b key={m.index}>{token.slice(2, -2)}</b>);
    else if (token.startsWith("*")) out.push(<i key={m.index}>{token.slice(1, -1)}</i>);
    else {
      const [, label, href] = /^\[([^\]]+)\]\(([a-z-]+)\)$/.exec(token)!;
      out.push(<a key={m.index} href={`/docs/${href}`}>{label}</a>);
    }
    last = (m.index ?? 0) + token.length;
  }
  out.push(text.slice(last));
  return out;
}

function render(markdown: string): ReactNode[] {
  const blocks = markdown.split(/\n\s*\n/);
  return blocks.map((block, i) => {
    const lines = block.split("\n");
    const heading = /^(#{1,3}) (.*)$/.exec(lines[0]);
    if (heading) {
      const Tag = (["h1", "h2", "h3"] as const)[heading[1].length - 1];
      return <Tag key={i}>{inline(heading[2])}</Tag>;
    }
    if (lines[0].startsWith("- ")) {
      // List items may wrap onto indented continuation lines.
      const items = block.split(/\n(?=- )/).map((item) => item.replace(/^- /, "").replace(/\n\s+/g, " "));
      return <ul key={i}>{items.map((item, j) => <li key={j}>{inline(item)}</li>)}</ul>;
    }
    return <p key={i}>{inline(lines.join(" "))}</p>;
  });
}

export default async function DocPage({ params }: { params: Promise<{ doc: string }> }) {
  const { doc } = await params;
  if (!DOC.test(doc)) notFound();
  let markdown: string;
  try {
    markdown = await readFile(path.join(docsDir(), `${doc}.md`), "utf8");
  } catch {
    notFound();
  }
  return <article style={{ maxWidth: 820, lineHeight: 1.55 }} data-testid="doc-page">{render(markdown)}</article>;
}
