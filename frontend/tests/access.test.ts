import { describe, expect, it } from "vitest";

import { canManage, canOperate, grantCandidates, grantableLevels, ownerCandidates } from "@/lib/access";
import type { ResourceAccess } from "@/lib/api/endpoints";

const user = (id: string, role: "admin" | "operator" | "viewer") => ({ id, username: `u-${id}`, role, active: true });
const users = [user("a", "admin"), user("o1", "operator"), user("o2", "operator"), user("v1", "viewer"),
  user("v2", "viewer")];
const access: ResourceAccess = {
  resource_type: "pipeline", resource_id: "p", name: "p", owner: user("o1", "operator"),
  grants: [{ user: user("v1", "viewer"), level: "view", granted_by: "admin", created_at: "", updated_at: "" }],
};

describe("access panel choices", () => {
  it("offers grants to non-admins who neither own nor hold one", () => {
    expect(grantCandidates(users, access).map((u) => u.id)).toEqual(["o2", "v2"]);
  });
  it("offers ownership to operators and admins other than the owner", () => {
    expect(ownerCandidates(users, access).map((u) => u.id)).toEqual(["a", "o2"]);
  });
  it("caps viewers at view", () => {
    expect(grantableLevels("viewer")).toEqual(["view"]);
    expect(grantableLevels("operator")).toEqual(["view", "operate", "manage"]);
    expect(grantableLevels("admin")).toEqual([]);
  });
  it("maps the caller's level to the actions shown", () => {
    expect([canOperate("view"), canOperate("operate"), canOperate("manage"), canOperate(undefined)])
      .toEqual([false, true, true, false]);
    expect([canManage("operate"), canManage("manage")]).toEqual([false, true]);
  });
});
