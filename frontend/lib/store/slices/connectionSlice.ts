import { createAsyncThunk, createSlice } from "@reduxjs/toolkit";

import { connectionsApi, type Connection } from "@/lib/api/endpoints";

type State = { items: Connection[]; loading: boolean; loaded: boolean; error: string | null };
const initialState: State = { items: [], loading: false, loaded: false, error: null };

export const fetchConnections = createAsyncThunk("connections/fetch", () => connectionsApi.list());

const connectionSlice = createSlice({
  name: "connections",
  initialState,
  reducers: {
    connectionSaved(s, a: { payload: Connection }) {
      const i = s.items.findIndex((c) => c.id === a.payload.id);
      if (i >= 0) s.items[i] = a.payload;
      else s.items.push(a.payload);
    },
    connectionRemoved(s, a: { payload: string }) {
      s.items = s.items.filter((c) => c.id !== a.payload);
    },
  },
  extraReducers: (b) => {
    b.addCase(fetchConnections.pending, (s) => { s.loading = true; })
      .addCase(fetchConnections.fulfilled, (s, a) => {
        s.items = a.payload; s.loading = false; s.loaded = true; s.error = null;
      })
      .addCase(fetchConnections.rejected, (s, a) => {
        s.loading = false; s.loaded = true; s.error = a.error.message ?? "failed";
      });
  },
});

export const { connectionSaved, connectionRemoved } = connectionSlice.actions;
export default connectionSlice.reducer;
