// The new-pipeline wizard's answers live here, not in the page: browser Back and Forward (the step is in the URL)
// remount the page, and what was typed must still be there. A copy goes to sessionStorage (this tab only; no
// secret in it) for a Back or Forward across a full page load, where the store starts afresh.
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

const SAVED = "cdcflow.wizard";

export function loadSavedWizard(): Partial<WizardState> | null {
  try {
    const raw = typeof window !== "undefined" ? window.sessionStorage.getItem(SAVED) : null;
    return raw ? (JSON.parse(raw) as Partial<WizardState>) : null;
  } catch {
    return null;
  }
}

export function saveWizard(state: WizardState | null): void {
  try {
    if (state) window.sessionStorage.setItem(SAVED, JSON.stringify(state));
    else window.sessionStorage.removeItem(SAVED);
  } catch {
    // Storage full or disabled: the store still keeps the answers within this page load.
  }
}
