import { combineReducers, configureStore } from "@reduxjs/toolkit";

import auth from "@/lib/store/slices/authSlice";
import connections from "@/lib/store/slices/connectionSlice";
import monitoring from "@/lib/store/slices/monitoringSlice";
import pipelines from "@/lib/store/slices/pipelineSlice";
import wizard from "@/lib/store/slices/wizardSlice";

const rootReducer = combineReducers({ auth, connections, pipelines, monitoring, wizard });

/** A new store per request (server) or per tab (client), never a module singleton. */
export function makeStore() {
  return configureStore({ reducer: rootReducer, middleware: (d) => d({ serializableCheck: false }) });
}

export type AppStore = ReturnType<typeof makeStore>;
export type RootState = ReturnType<typeof rootReducer>;
export type AppDispatch = AppStore["dispatch"];
