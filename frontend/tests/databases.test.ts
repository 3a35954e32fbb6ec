import { describe, expect, it } from "vitest";

import { databaseLabel, defaultPort, switchDatabaseType, versionLabel } from "@/lib/databases";

describe("database types", () => {
  it("labels and default ports", () => {
    expect(databaseLabel("mariadb")).toBe("MariaDB");
    expect(databaseLabel("postgresql")).toBe("PostgreSQL");
    expect(defaultPort("mariadb")).toBe(3306);
    expect(defaultPort("postgresql")).toBe(5432);
  });

  it("switching type moves a default port and schema, keeps typed ones", () => {
    const pg = { database_type: "postgresql" as const, port: 5432, schema: "public", name: "x" };
    expect(switchDatabaseType(pg, "mariadb")).toEqual({ database_type: "mariadb", port: 3306, schema: "", name: "x" });
    expect(switchDatabaseType({ ...pg, port: 25432, schema: "shop" }, "mariadb"))
      .toEqual({ database_type: "mariadb", port: 25432, schema: "shop", name: "x" });
    const maria = switchDatabaseType(pg, "mariadb");
    expect(switchDatabaseType(maria, "postgresql")).toEqual(pg);
    expect(switchDatabaseType({ ...pg, port: "" }, "mariadb").port).toBe(3306);
  });

  it("version label names the server once", () => {
    expect(versionLabel("mariadb", "10.11.19-MariaDB-0+deb12u1")).toBe("10.11.19-MariaDB-0+deb12u1");
    expect(versionLabel("postgresql", "15.8")).toBe("PostgreSQL 15.8");
  });
});
