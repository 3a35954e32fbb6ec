import { createAsyncThunk, createSlice } from "@reduxjs/toolkit";

import { pipelinesApi, type Pipeline, type PipelineProgressView, type PipelineStatusView } from "@/lib/api/endpoints";

type State = {
  items: Pipeline[];
  loading: boolean;
  /** An answer (items or error) has arrived once: until then the list is unknown, not empty. */
  loaded: boolean;
  error: string | null;
  status: Record<string, PipelineStatusView>;
  progress: Record<string, PipelineProgressView>;
};
const initialState: State = { items: [], loading: false, loaded: false, error: null, status: {}, progress: {} };

export const fetchPipelines = createAsyncThunk("pipelines/fetch", () => pipelinesApi.list());
// The pipeline itself is what the page needs to render; a slow or failed status or progress answer keeps the
// previous one instead of holding the whole page on its skeleton.
export const fetchPipelineDetail = createAsyncThunk("pipelines/detail", async (id: string) => {
  const [pipeline, status, progress] = await Promise.allSettled([pipelinesApi.get(id), pipelinesApi.status(id),
    pipelinesApi.progress(id)]);
  if (pipeline.status === "rejected") throw pipeline.reason;
  return { pipeline: pipeline.value, status: status.status === "fulfilled" ? status.value : undefined,
    progress: progress.status === "fulfilled" ? progress.value : undefined };
});

const pipelineSlice = createSlice({
  name: "pipelines",
  initialState,
  reducers: {
    /** Replaces a pipeline by id, or adds it. */
    pipelineUpdated(s, a: { payload: Pipeline }) {
      const i = s.items.findIndex((p) => p.id === a.payload.id);
      if (i >= 0) s.items[i] = a.payload;
      else s.items.unshift(a.payload);
    },
    pipelineRemoved(s, a: { payload: string }) {
      s.items = s.items.filter((p) => p.id !== a.payload);
    },
  },
  extraReducers: (b) => {
    b.addCase(fetchPipelines.pending, (s) => { s.loading = true; })
      .addCase(fetchPipelines.fulfilled, (s, a) => {
        s.items = a.payload; s.loading = false; s.loaded = true; s.error = null;
      })
      .addCase(fetchPipelines.rejected, (s, a) => {
        s.loading = false; s.loaded = true; s.error = a.error.message ?? "failed";
      })
      .addCase(fetchPipelineDetail.fulfilled, (s, a) => {
        const { pipeline, status, progress } = a.payload;
        const i = s.items.findIndex((p) => p.id === pipeline.id);
        if (i >= 0) s.items[i] = pipeline;
        else s.items.push(pipeline);
        if (status) s.status[pipeline.id] = status;
        if (progress) s.progress[pipeline.id] = progress;
      });
  },
});

export const { pipelineUpdated, pipelineRemoved } = pipelineSlice.actions;
export default pipelineSlice.reducer;
