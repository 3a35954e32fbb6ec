// The new-pipeline wizard's answers live here, not in the page: browser Back and Forward (the step is in the URL)
// remount the page, and what was typed must still be there.
import { createSlice, type PayloadAction } from "@reduxjs/toolkit";

import type { PipelineMode, SchemaChangePolicy } from "@/lib/api/endpoints";

export type WizardState = { name: string; source: string | null; target: string | null; selected: string[];
  mode: PipelineMode; policy: SchemaChangePolicy; dropRemoved: boolean };

const initialState: WizardState = { name: "", source: null, target: null, selected: [], mode: "full_load_and_cdc",
  policy: "propagate", dropRemoved: false };

const wizardSlice = createSlice({
  name: "wizard",
  initialState,
  reducers: {
    wizardChanged(s, a: PayloadAction<Partial<WizardState>>) {
      // A new source has other tables: what was picked from the old one no longer applies.
      if (a.payload.source !== undefined && a.payload.source !== s.source) s.selected = [];
      Object.assign(s, a.payload);
    },
    wizardReset: () => initialState,
  },
});

export const { wizardChanged, wizardReset } = wizardSlice.actions;
export default wizardSlice.reducer;
