// Form checks in words people read, mirroring the API's rules (its pydantic patterns), so a bad value is explained
// next to its field before anything is sent. Each returns null when the value is fine.

const NAME = /^[A-Za-z0-9][A-Za-z0-9 _.-]*$/;

/** Pipeline and connection names (backend NAME_PATTERN: letter or digit first, then letters, digits, space _ . -). */
export function nameError(value: string, what = "Name"): string | null {
  if (!value.trim()) return `${what} is required`;
  if (value.length > 100) return `${what} must be at most 100 characters (${value.length} now)`;
  if (!/^[A-Za-z0-9]/.test(value)) return `${what} must start with a letter or a digit`;
  if (!NAME.test(value)) {
    const bad = [...new Set(value.split("").filter((ch) => !/[A-Za-z0-9 _.-]/.test(ch)))].join(" ");
    return `${what} may contain only letters, digits, spaces and _ . - (not ${bad})`;
  }
  return null;
}

export function portError(value: unknown): string | null {
  const port = typeof value === "number" ? value : Number(value);
  if (value === "" || value == null || !Number.isInteger(port)) return "Port must be a whole number";
  if (port < 1 || port > 65535) return `Port must be between 1 and 65535 (not ${port})`;
  return null;
}

export const MIN_PASSWORD = 8;

export function passwordError(value: string, required = true): string | null {
  if (!value) return required ? "Password is required" : null;
  if (value.length < MIN_PASSWORD) return `Password must be at least ${MIN_PASSWORD} characters (${value.length} now)`;
  if (value.length > 256) return "Password must be at most 256 characters";
  return null;
}

export function usernameError(value: string): string | null {
  if (!value) return "Username is required";
  if (!/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/.test(value))
    return "Username: up to 64 letters, digits and _ . @ -, starting with a letter or digit";
  return null;
}
