import { createAsyncThunk, createSlice } from "@reduxjs/toolkit";

import { api } from "@/lib/api/client";
import { authApi, type UserPublic } from "@/lib/api/endpoints";
import { forgetLegacyTokens, tokenStore } from "@/lib/api/tokens";
import { closeSocket } from "@/lib/websocket/client";

type AuthState = { user: UserPublic | null; status: "unknown" | "loading" | "authenticated" | "anonymous";
  error: string | null };

const initialState: AuthState = { user: null, status: "unknown", error: null };

export const login = createAsyncThunk("auth/login", async (c: { username: string; password: string }) => {
  const tokens = await authApi.login(c.username, c.password);
  tokenStore.set(tokens.access_token);
  return authApi.me();
});

/** On page load the access token is not in memory: the refresh cookie (if any) gets a new one. */
export const loadSession = createAsyncThunk("auth/loadSession", async () => {
  forgetLegacyTokens();
  if (!tokenStore.get() && !(await api().refreshSession())) return null;
  return authApi.me();
});

export const logout = createAsyncThunk("auth/logout", async () => {
  tokenStore.set(null);
  closeSocket();  // its handshake carried this user's token
  await authApi.logout().catch(() => undefined);
});

const authSlice = createSlice({
  name: "auth",
  initialState,
  reducers: {},
  extraReducers: (b) => {
    b.addCase(login.pending, (s) => { s.status = "loading"; s.error = null; })
      .addCase(login.fulfilled, (s, a) => { s.user = a.payload; s.status = "authenticated"; })
      .addCase(login.rejected, (s, a) => { s.status = "anonymous"; s.error = a.error.message ?? "Login failed"; })
      .addCase(loadSession.fulfilled, (s, a) => {
        s.user = a.payload;
        s.status = a.payload ? "authenticated" : "anonymous";
      })
      .addCase(loadSession.rejected, (s) => { s.user = null; s.status = "anonymous"; })
      .addCase(logout.fulfilled, (s) => { s.user = null; s.status = "anonymous"; });
  },
});

export default authSlice.reducer;
