// What the Access panel offers: who may still be granted access to a resource, at which levels, and who may own it.
import type { AccessLevel, ResourceAccess, Role } from "@/lib/api/endpoints";

type UserLike = { id: string; username: string; role: Role; active: boolean };

export const LEVELS: AccessLevel[] = ["view", "operate", "manage"];

// A viewer's role caps them at view, whatever a grant says: the backend refuses anything more.
export function grantableLevels(role: Role): AccessLevel[] {
  return role === "viewer" ? ["view"] : role === "admin" ? [] : LEVELS;
}

// Admins see everything already and the owner has every level: neither is offered a grant.
export function grantCandidates<U extends UserLike>(users: U[], access: ResourceAccess): U[] {
  const taken = new Set([access.owner?.id, ...access.grants.map((g) => g.user.id)]);
  return users.filter((u) => u.role !== "admin" && !taken.has(u.id))
    .sort((a, b) => a.username.localeCompare(b.username));
}

// Viewers cannot own a resource; operators and admins can.
export function ownerCandidates<U extends UserLike>(users: U[], access: ResourceAccess): U[] {
  return users.filter((u) => u.role !== "viewer" && u.id !== access.owner?.id)
    .sort((a, b) => a.username.localeCompare(b.username));
}

// The caller's level decides which buttons a pipeline or connection page shows.
export function canOperate(access: AccessLevel | undefined): boolean {
  return access === "operate" || access === "manage";
}

export function canManage(access: AccessLevel | undefined): boolean {
  return access === "manage";
}
