// One way to show a PostgreSQL log position everywhere: PostgreSQL's own pg_lsn text (1/461376E8). Events carry
// Debezium's number (the same position as a 64-bit integer); the full load stores the text.

/** `value` as X/Y (upper-case hex halves, as PostgreSQL prints pg_lsn); "–" for nothing; any other text as is. */
export function formatLsn(value: number | string | null | undefined): string {
  if (value == null || value === "") return "–";
  const text = String(value).trim();
  if (/^[0-9a-f]+\/[0-9a-f]+$/i.test(text)) {
    const [hi, lo] = text.split("/");
    return `${BigInt(`0x${hi}`).toString(16).toUpperCase()}/${BigInt(`0x${lo}`).toString(16).toUpperCase()}`;
  }
  if (!/^\d+$/.test(text)) return text;
  const n = BigInt(text);
  return `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`;
}
